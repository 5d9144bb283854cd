// Config locations per client, OS and scope, as README.md §Add it to your MCP client lists them.
import { describe, expect, it } from "bun:test";
import { CLIENT_IDS, CLIENTS, type ClientEnv } from "../../src/mcp-clients/clients.ts";

const ENVS: Record<string, ClientEnv> = {
  linux: { platform: "linux", home: "/home/u", cwd: "/work/p" },
  darwin: { platform: "darwin", home: "/Users/u", cwd: "/work/p" },
  win32: { platform: "win32", home: "C:\\Users\\u", appData: "C:\\Users\\u\\AppData\\Roaming", cwd: "C:\\work\\p" },
};

describe("client config locations", () => {
  it.each([
    ["claude", "user", "linux", "/home/u/.config/Claude/claude_desktop_config.json"],
    ["claude", "user", "darwin", "/Users/u/Library/Application Support/Claude/claude_desktop_config.json"],
    ["claude", "user", "win32", "C:\\Users\\u\\AppData\\Roaming\\Claude\\claude_desktop_config.json"],
    ["claude-code", "user", "linux", "/home/u/.claude.json"],
    ["claude-code", "project", "darwin", "/work/p/.mcp.json"],
    ["cursor", "user", "win32", "C:\\Users\\u\\.cursor\\mcp.json"],
    ["cursor", "project", "linux", "/work/p/.cursor/mcp.json"],
    ["vscode", "user", "linux", "/home/u/.config/Code/User/mcp.json"],
    ["vscode", "user", "darwin", "/Users/u/Library/Application Support/Code/User/mcp.json"],
    ["vscode", "user", "win32", "C:\\Users\\u\\AppData\\Roaming\\Code\\User\\mcp.json"],
    ["vscode", "project", "win32", "C:\\work\\p\\.vscode\\mcp.json"],
    ["windsurf", "user", "darwin", "/Users/u/.codeium/windsurf/mcp_config.json"],
    ["windsurf", "user", "win32", "C:\\Users\\u\\.codeium\\windsurf\\mcp_config.json"],
    ["amazonq", "user", "linux", "/home/u/.aws/amazonq/mcp.json"],
    ["amazonq", "project", "linux", "/work/p/.amazonq/mcp.json"],
  ] as const)("%s --scope %s on %s → %s", (client, scope, os, path) => {
    expect(CLIENTS[client].file(scope, ENVS[os]!)).toBe(path);
  });

  it("honours XDG_CONFIG_HOME on Linux", () => {
    expect(CLIENTS.vscode.file("user", { ...ENVS.linux!, xdgConfigHome: "/xdg" })).toBe("/xdg/Code/User/mcp.json");
  });

  it("uses `servers` and JSONC for VS Code only; `mcpServers` and strict JSON elsewhere", () => {
    for (const id of CLIENT_IDS) {
      expect(CLIENTS[id].key).toBe(id === "vscode" ? "servers" : "mcpServers");
      expect(CLIENTS[id].jsonc).toBe(id === "vscode");
    }
  });

  it("builds the clients' own CLI invocations with the path as one argv element", () => {
    const cmd = "/Applications/My Tools/mcp-credentials-broker";
    expect(CLIENTS["claude-code"].cli!.add("credentials", cmd, "user", false)).toEqual([["mcp", "add", "--scope", "user", "credentials", "--", cmd]]);
    expect(CLIENTS["claude-code"].cli!.add("credentials", cmd, "project", true)).toEqual([
      ["mcp", "remove", "--scope", "project", "credentials"],
      ["mcp", "add", "--scope", "project", "credentials", "--", cmd],
    ]);
    expect(JSON.parse(CLIENTS.vscode.cli!.add("credentials", cmd, "user", false)[0]![1]!)).toEqual({ name: "credentials", type: "stdio", command: cmd, args: [] });
    expect(CLIENTS.amazonq.cli!.add("credentials", cmd, "project", true)).toEqual([["mcp", "add", "--name", "credentials", "--command", cmd, "--scope", "workspace", "--force"]]);
    expect(CLIENTS.amazonq.cli!.remove!("credentials", "user")).toEqual(["mcp", "remove", "--name", "credentials", "--scope", "global"]);
  });
});
