// `install` / `uninstall` / `doctor` through the compiled binary (acceptance 3 of issue 8), for
// every client with a temporary HOME: a fresh file, a file with other servers (kept byte for
// byte), a malformed file (refused, unchanged), a repeated install (no duplicate) and uninstall.
// PATH holds no client CLI here, so the file-edit branch runs; fakes on PATH cover the CLIs.
import { beforeEach, describe, expect, it } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CLIENTS, type ClientId, type Scope } from "../../src/mcp-clients/clients.ts";
import { BINARY, runCli } from "./harness.ts";

let home: string;
let project: string;
let binDir: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "mcb-e2e-install-"));
  project = join(home, "project");
  binDir = join(home, "bin");
  mkdirSync(project);
  mkdirSync(binDir);
});

/** The broker with HOME/XDG pointing into the temp home and a PATH with only `binDir`. */
const broker = (args: string[]) => runCli(args, { home: join(home, "data"), cwd: project, env: { HOME: home, XDG_CONFIG_HOME: join(home, ".config"), PATH: binDir } });
const fileOf = (client: ClientId, scope: Scope) => CLIENTS[client].file(scope, { platform: process.platform, home, xdgConfigHome: join(home, ".config"), cwd: project });

/** A hand-formatted config with another server as the last member and other top-level keys. */
function othersFile(client: ClientId): { text: string; insertAt: number } {
  const key = CLIENTS[client].key;
  const text = CLIENTS[client].jsonc
    ? `// my servers\n{\n\t"${key}": {\n\t\t// fetch\n\t\t"other": { "command": "other-mcp", "args": ["--x"] },\n\t},\n\t"inputs": []\n}\n`
    : `{\n    "theme": "dark",\n    "${key}": {\n        "other": { "command": "other-mcp", "args": ["--x"] }\n    },\n    "tail": [1, 2, 3]\n}\n`;
  return { text, insertAt: text.indexOf('["--x"] }') + '["--x"] }'.length };
}

const CASES: [ClientId, Scope][] = [
  ["claude", "user"],
  ["claude-code", "user"],
  ["claude-code", "project"],
  ["cursor", "user"],
  ["cursor", "project"],
  ["vscode", "user"],
  ["vscode", "project"],
  ["windsurf", "user"],
  ["amazonq", "user"],
  ["amazonq", "project"],
];

describe.each(CASES)("install %s --scope %s (file edit)", (client, scope) => {
  const key = CLIENTS[client].key;
  const args = (cmd: string) => [cmd, client, "--scope", scope];

  it("creates a fresh file with our entry", async () => {
    const r = await broker(args("install"));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Added 'credentials' in ${CLIENTS[client].label} (${fileOf(client, scope)})`);
    const cfg = JSON.parse(readFileSync(fileOf(client, scope), "utf8"));
    expect(cfg[key].credentials.command).toBe(BINARY);
    expect(Object.keys(cfg)).toEqual([key]);
  });

  it("keeps other servers and every untouched byte; install then uninstall restores the file", async () => {
    const file = fileOf(client, scope);
    mkdirSync(dirname(file), { recursive: true });
    const { text, insertAt } = othersFile(client);
    writeFileSync(file, text);
    expect((await broker(args("install"))).code).toBe(0);
    const after = readFileSync(file, "utf8");
    expect(after.slice(0, insertAt)).toBe(text.slice(0, insertAt));
    expect(after.endsWith(text.slice(insertAt))).toBe(true);
    expect(after.slice(insertAt, after.length - (text.length - insertAt))).toMatch(/^,\n\s+"credentials": \{\n/);

    const r = await broker(args("uninstall"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Removed 'credentials' from ${CLIENTS[client].label}`);
    expect(readFileSync(file, "utf8")).toBe(text);
    expect(readdirSync(dirname(file)).filter((n) => n.startsWith(`${file.split("/").at(-1)}.bak-`))).toHaveLength(2);
  });

  it("refuses a malformed file with a clear message and leaves it unchanged", async () => {
    const file = fileOf(client, scope);
    mkdirSync(dirname(file), { recursive: true });
    const broken = `{\n  "${key}": {\n    "other": { "command": "x" }\n`;
    writeFileSync(file, broken);
    const before = readdirSync(dirname(file)).sort();
    for (const cmd of ["install", "uninstall"]) {
      const r = await broker(args(cmd));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error: ${file} is not valid JSON${CLIENTS[client].jsonc ? "C" : ""} (`);
      expect(r.stderr).toContain("Nothing was changed: fix the file, then run the command again.");
      expect(readFileSync(file, "utf8")).toBe(broken);
      expect(readdirSync(dirname(file)).sort()).toEqual(before);
    }
  });

  it("is idempotent: a repeated install adds no duplicate and changes nothing", async () => {
    await broker(args("install"));
    const first = readFileSync(fileOf(client, scope), "utf8");
    const r = await broker(args("install"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("already runs this binary; nothing to do.");
    expect(readFileSync(fileOf(client, scope), "utf8")).toBe(first);
    expect(first.split('"credentials"').length - 1).toBe(1);
  });

  it("uninstall removes our entry; a second uninstall has nothing to do", async () => {
    await broker(args("install"));
    expect((await broker(args("uninstall"))).code).toBe(0);
    expect(JSON.parse(readFileSync(fileOf(client, scope), "utf8"))[key]).toEqual({});
    const again = await broker(args("uninstall"));
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("has no server 'credentials'");
  });
});

describe("install options and errors", () => {
  it("--dry-run prints the change and writes nothing", async () => {
    const r = await broker(["install", "cursor", "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Would add 'credentials' in Cursor");
    expect(r.stdout).toContain(`+       "command": "${BINARY}",`);
    expect(existsSync(fileOf("cursor", "user"))).toBe(false);
  });

  it("--name and --command-path choose the key and the command", async () => {
    const r = await broker(["install", "windsurf", "--name", "vault", "--command-path", BINARY]);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(fileOf("windsurf", "user"), "utf8")).mcpServers.vault.command).toBe(BINARY);
  });

  it("needs --force to repoint an entry that runs another command", async () => {
    const file = fileOf("cursor", "user");
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ mcpServers: { credentials: { command: "/old/mcp-credentials-broker" } } }));
    const r = await broker(["install", "cursor"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Re-run with --force");
    expect((await broker(["install", "cursor", "--force"])).code).toBe(0);
    expect(JSON.parse(readFileSync(file, "utf8")).mcpServers.credentials.command).toBe(BINARY);
  });

  it.each([
    [["install", "emacs"], "Unknown client 'emacs'. Choose one of: claude, claude-code, cursor, vscode, windsurf, amazonq."],
    [["install", "cursor", "--scope", "global"], "--scope must be user or project"],
    [["install", "cursor", "--name", "bad name"], "--name must be"],
    [["install", "cursor", "--command-path", "relative/bin"], "--command-path must be an absolute path"],
    [["install", "claude", "--scope", "project"], "Claude Desktop has no project scope"],
  ])("%p is a usage error (exit 2) naming the fix", async (args, message) => {
    const r = await broker(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe("the clients' own CLIs, when on PATH (fakes)", () => {
  /** A fake CLI that records each argv (NUL-separated) and exits 0, like the real one would. */
  function fake(bin: string): string {
    const log = join(home, `${bin}.log`);
    const path = join(binDir, bin);
    writeFileSync(path, `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a" >> "${log}"; done\nprintf '\\n' >> "${log}"\n`);
    chmodSync(path, 0o755);
    return log;
  }
  const calls = (log: string) => readFileSync(log, "utf8").trim().split("\n").map((l) => l.split("\0").filter(Boolean));

  it.each([
    ["claude-code", "claude", ["mcp", "add", "--scope", "user", "credentials", "--", BINARY]],
    ["vscode", "code", ["--add-mcp", JSON.stringify({ name: "credentials", type: "stdio", command: BINARY, args: [] })]],
    ["amazonq", "q", ["mcp", "add", "--name", "credentials", "--command", BINARY, "--scope", "global"]],
  ] as const)("install %s runs `%s` with the path as one argument and edits no file", async (client, bin, argv) => {
    const log = fake(bin);
    const r = await broker(["install", client]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`ran: ${join(binDir, bin)}`);
    expect(calls(log)).toEqual([[...argv]]);
    expect(existsSync(fileOf(client, "user"))).toBe(false);
  });

  it("uninstall claude-code runs `claude mcp remove`", async () => {
    const log = fake("claude");
    writeFileSync(join(home, ".claude.json"), JSON.stringify({ numStartups: 1, mcpServers: { credentials: { type: "stdio", command: BINARY } } }));
    expect((await broker(["uninstall", "claude-code"])).code).toBe(0);
    expect(calls(log)).toEqual([["mcp", "remove", "--scope", "user", "credentials"]]);
  });
});

describe("doctor", () => {
  it("shows the binary, and which clients run it or another binary (exit 1 for the latter)", async () => {
    await broker(["install", "cursor"]);
    let r = await broker(["doctor"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}mcp-credentials-broker \S+ \(commit \S+, linux-x64\)$/m);
    expect(r.stdout).toContain(`path:          ${BINARY}`);
    expect(r.stdout).toContain(`Cursor (user) ${fileOf("cursor", "user")}: installed → ${BINARY} (this binary)`);
    expect(r.stdout).toContain(`Windsurf (user) ${fileOf("windsurf", "user")}: no config file`);

    await broker(["install", "windsurf", "--command-path", "/bin/sh"]);
    r = await broker(["doctor", "--json"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.binary.path).toBe(BINARY);
    expect(report["MCP clients"].find((c: { client: string }) => c.client === "windsurf")).toMatchObject({ state: "installed", command: "/bin/sh", pointsHere: false });
    expect(report.problems).toEqual(["Windsurf runs /bin/sh, not this binary: run `mcp-credentials-broker install windsurf --force` to point it here."]);
  });
});
