// The MCP clients `install` knows: where each keeps its config per OS and scope, the shape
// of our entry, and the client's own CLI when it has one (README.md §Add it to your MCP client).
import { posix, win32 } from "node:path";

export const CLIENT_IDS = ["claude", "claude-code", "cursor", "vscode", "windsurf", "amazonq"] as const;
export type ClientId = (typeof CLIENT_IDS)[number];
export type Scope = "user" | "project";

/** Where a client's files are looked up: the OS, the user's home and config dirs, the project dir. */
export interface ClientEnv {
  platform: string;
  home: string;
  /** %APPDATA% on Windows. */
  appData?: string;
  /** $XDG_CONFIG_HOME on Linux. */
  xdgConfigHome?: string;
  /** The project directory for --scope project (the current directory). */
  cwd: string;
}

export interface ClientCli {
  bin: string;
  scopes: Scope[];
  add(name: string, command: string, scope: Scope, replace: boolean): string[][];
  /** Undefined when the CLI cannot remove a server (VS Code): the file is edited instead. */
  remove?(name: string, scope: Scope): string[];
}

export interface ClientSpec {
  id: ClientId;
  label: string;
  /** Top-level key holding the servers: VS Code says `servers`, the others `mcpServers`. */
  key: "mcpServers" | "servers";
  /** VS Code's mcp.json is JSONC; the others are strict JSON. */
  jsonc: boolean;
  scopes: Scope[];
  entry(command: string): Record<string, unknown>;
  /** What the user does next so the client picks the change up. */
  restartHint: string;
  cli?: ClientCli;
  file(scope: Scope, env: ClientEnv): string;
}

function pathApi(env: ClientEnv) {
  return env.platform === "win32" ? win32 : posix;
}

/** The per-user application config dir: Application Support, %APPDATA%, or $XDG_CONFIG_HOME. */
function appConfigDir(env: ClientEnv): string {
  const p = pathApi(env);
  if (env.platform === "darwin") return p.join(env.home, "Library", "Application Support");
  if (env.platform === "win32") return env.appData || p.join(env.home, "AppData", "Roaming");
  return env.xdgConfigHome || p.join(env.home, ".config");
}

const plainEntry = (command: string) => ({ command, args: [] });

export const CLIENTS: Record<ClientId, ClientSpec> = {
  claude: {
    id: "claude",
    label: "Claude Desktop",
    key: "mcpServers",
    jsonc: false,
    scopes: ["user"],
    entry: plainEntry,
    restartHint: "Quit Claude Desktop completely and open it again to pick up the change.",
    // Linux has no official app; community builds read ~/.config/Claude like this.
    file: (_scope, env) => pathApi(env).join(appConfigDir(env), "Claude", "claude_desktop_config.json"),
  },
  "claude-code": {
    id: "claude-code",
    label: "Claude Code",
    key: "mcpServers",
    jsonc: false,
    scopes: ["user", "project"],
    entry: (command) => ({ type: "stdio", command, args: [] }),
    restartHint: "Start a new Claude Code session (/mcp lists its servers).",
    // ~/.claude.json is Claude Code's own state file and its layout changes between versions
    // (anthropics/claude-code#16728): its CLI does the writing whenever it is on PATH.
    cli: {
      bin: "claude",
      scopes: ["user", "project"],
      add: (name, command, scope, replace) => [
        ...(replace ? [["mcp", "remove", "--scope", scope, name]] : []),
        ["mcp", "add", "--scope", scope, name, "--", command],
      ],
      remove: (name, scope) => ["mcp", "remove", "--scope", scope, name],
    },
    file: (scope, env) => (scope === "user" ? pathApi(env).join(env.home, ".claude.json") : pathApi(env).join(env.cwd, ".mcp.json")),
  },
  cursor: {
    id: "cursor",
    label: "Cursor",
    key: "mcpServers",
    jsonc: false,
    scopes: ["user", "project"],
    entry: plainEntry,
    restartHint: "Restart Cursor, or check Cursor Settings → MCP, to pick up the change.",
    file: (scope, env) => pathApi(env).join(scope === "user" ? env.home : env.cwd, ".cursor", "mcp.json"),
  },
  vscode: {
    id: "vscode",
    label: "VS Code",
    key: "servers",
    jsonc: true,
    scopes: ["user", "project"],
    entry: (command) => ({ type: "stdio", command, args: [] }),
    restartHint: "In VS Code, “MCP: List Servers” shows the change (start or stop the server there).",
    // `code --add-mcp` writes the default profile's user mcp.json; it has no remove.
    cli: {
      bin: "code",
      scopes: ["user"],
      add: (name, command) => [["--add-mcp", JSON.stringify({ name, type: "stdio", command, args: [] })]],
    },
    file: (scope, env) => (scope === "user" ? pathApi(env).join(appConfigDir(env), "Code", "User", "mcp.json") : pathApi(env).join(env.cwd, ".vscode", "mcp.json")),
  },
  windsurf: {
    id: "windsurf",
    label: "Windsurf",
    key: "mcpServers",
    jsonc: false,
    scopes: ["user"],
    entry: plainEntry,
    restartHint: "Press refresh in Windsurf's Cascade MCP panel to pick up the change.",
    file: (_scope, env) => pathApi(env).join(env.home, ".codeium", "windsurf", "mcp_config.json"),
  },
  amazonq: {
    id: "amazonq",
    label: "Amazon Q Developer",
    key: "mcpServers",
    jsonc: false,
    scopes: ["user", "project"],
    entry: plainEntry,
    restartHint: "Restart `q chat` (or reload the IDE plugin) to pick up the change.",
    cli: {
      bin: "q",
      scopes: ["user", "project"],
      add: (name, command, scope, replace) => [["mcp", "add", "--name", name, "--command", command, "--scope", scope === "user" ? "global" : "workspace", ...(replace ? ["--force"] : [])]],
      remove: (name, scope) => ["mcp", "remove", "--name", name, "--scope", scope === "user" ? "global" : "workspace"],
    },
    file: (scope, env) => (scope === "user" ? pathApi(env).join(env.home, ".aws", "amazonq", "mcp.json") : pathApi(env).join(env.cwd, ".amazonq", "mcp.json")),
  },
};

/** Parses a client name from the command line. */
export function parseClientId(raw: string): ClientId | undefined {
  return (CLIENT_IDS as readonly string[]).includes(raw) ? (raw as ClientId) : undefined;
}
