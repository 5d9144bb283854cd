// install / uninstall use cases against a temporary home: file edits (backup, mode, atomic,
// idempotent, refusals) and the client-CLI branch with a recording runner.
import { beforeEach, describe, expect, it } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CLIENTS } from "../../src/mcp-clients/clients.ts";
import { BACKUPS_KEPT, type InstallDeps, inspectClients, installClient, uninstallClient } from "../../src/mcp-clients/install.ts";
import { type ErrorCode, isBrokerError } from "../../src/errors.ts";

const CMD = "/opt/mcb/bin/mcp-credentials-broker";
let home: string;
let clock: number;
let ran: string[][];
let onPath: Record<string, string>;
let exitCode: number;

function deps(platform = "linux"): InstallDeps {
  return {
    env: { platform, home, cwd: join(home, "project") },
    which: (bin) => onPath[bin],
    run: (argv) => {
      ran.push(argv);
      return { code: exitCode, stdout: "", stderr: exitCode ? "server already exists" : "" };
    },
    now: () => clock,
  };
}

const req = (over: Partial<Parameters<typeof installClient>[0]> = {}) => ({ client: "cursor" as const, name: "credentials", scope: "user" as const, command: CMD, force: false, dryRun: false, ...over });
const cursorFile = () => join(home, ".cursor", "mcp.json");

function throwsCode(fn: () => unknown, code: ErrorCode, message: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(isBrokerError(error, code)).toBe(true);
  expect((error as Error).message).toContain(message);
}

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "mcb-install-"));
  mkdirSync(join(home, "project"));
  clock = Date.UTC(2026, 10, 23, 12, 0, 0);
  ran = [];
  onPath = {};
  exitCode = 0;
});

describe("install by editing the file", () => {
  it("creates a missing file (and folder) with mode 0600", () => {
    const o = installClient(req(), deps());
    expect(o).toMatchObject({ action: "added", method: "file", file: cursorFile(), backup: undefined });
    expect(JSON.parse(readFileSync(cursorFile(), "utf8"))).toEqual({ mcpServers: { credentials: { command: CMD, args: [] } } });
    expect(statSync(cursorFile()).mode & 0o777).toBe(0o600);
  });

  it("keeps the file's mode, backs up the original bytes, and leaves no temp file", () => {
    mkdirSync(dirname(cursorFile()));
    const original = '{\n  "mcpServers": {\n    "other": {"command": "x"}\n  }\n}\n';
    writeFileSync(cursorFile(), original);
    chmodSync(cursorFile(), 0o644);
    const o = installClient(req(), deps());
    expect(o.backup).toBe(`${cursorFile()}.bak-20261123T120000Z`);
    expect(readFileSync(o.backup!, "utf8")).toBe(original);
    expect(statSync(cursorFile()).mode & 0o777).toBe(0o644);
    expect(readdirSync(dirname(cursorFile())).sort()).toEqual(["mcp.json", "mcp.json.bak-20261123T120000Z"]);
  });

  it("is idempotent: a second install changes no byte and makes no backup", () => {
    installClient(req(), deps());
    const before = readFileSync(cursorFile(), "utf8");
    expect(installClient(req(), deps()).action).toBe("unchanged");
    expect(readFileSync(cursorFile(), "utf8")).toBe(before);
    expect(readdirSync(dirname(cursorFile()))).toEqual(["mcp.json"]);
  });

  it("keeps the newest backups only", () => {
    mkdirSync(dirname(cursorFile()));
    writeFileSync(cursorFile(), "{}");
    for (let i = 0; i < BACKUPS_KEPT + 3; i++) {
      clock += 1000;
      installClient(req({ command: `/v${i}/mcp-credentials-broker`, force: true }), deps());
    }
    const backups = readdirSync(dirname(cursorFile())).filter((n) => n.includes(".bak-"));
    expect(backups).toHaveLength(BACKUPS_KEPT);
    expect(backups.sort().at(-1)).toBe("mcp.json.bak-20261123T120008Z");
  });

  it("refuses to repoint an entry running another command without --force, then repoints with it", () => {
    installClient(req({ command: "/old/mcp-credentials-broker" }), deps());
    const before = readFileSync(cursorFile(), "utf8");
    throwsCode(() => installClient(req(), deps()), "CONFIG_CONFLICT", "already has a server 'credentials' running /old/mcp-credentials-broker. Re-run with --force");
    expect(readFileSync(cursorFile(), "utf8")).toBe(before);
    expect(installClient(req({ force: true }), deps()).action).toBe("replaced");
    expect(JSON.parse(readFileSync(cursorFile(), "utf8")).mcpServers.credentials.command).toBe(CMD);
  });

  it("refuses a malformed file without writing or backing up", () => {
    mkdirSync(dirname(cursorFile()));
    writeFileSync(cursorFile(), '{ "mcpServers": { "a": 1, } }');
    throwsCode(() => installClient(req(), deps()), "CONFIG_INVALID", `${cursorFile()} is not valid JSON (PropertyNameExpected at line 1, column 27)`);
    expect(readFileSync(cursorFile(), "utf8")).toBe('{ "mcpServers": { "a": 1, } }');
    expect(readdirSync(dirname(cursorFile()))).toEqual(["mcp.json"]);
  });

  it("--dry-run shows the change and writes nothing", () => {
    mkdirSync(dirname(cursorFile()));
    writeFileSync(cursorFile(), '{\n  "mcpServers": {}\n}\n');
    const o = installClient(req({ dryRun: true }), deps());
    expect(o.diff).toBe(`@@ line 2 @@\n-   "mcpServers": {}\n+   "mcpServers": {\n+     "credentials": {\n+       "command": "${CMD}",\n+       "args": []\n+     }\n+   }`);
    expect(readFileSync(cursorFile(), "utf8")).toBe('{\n  "mcpServers": {}\n}\n');
  });

  it("keeps a UTF-8 byte order mark", () => {
    const file = CLIENTS.vscode.file("user", deps().env);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, '\uFEFF{\n  "servers": {}\n}\n');
    installClient(req({ client: "vscode" }), deps());
    expect(readFileSync(file, "utf8").startsWith('\uFEFF{\n  "servers": {\n    "credentials": {\n      "type": "stdio"')).toBe(true);
  });

  it("refuses a scope the client does not have", () => {
    throwsCode(() => installClient(req({ client: "windsurf", scope: "project" }), deps()), "INVALID_INPUT", "Windsurf has no project scope. Use --scope user.");
  });
});

describe("uninstall by editing the file", () => {
  it("removes only our entry", () => {
    mkdirSync(dirname(cursorFile()));
    writeFileSync(cursorFile(), `{\n  "mcpServers": {\n    "a": {"command": "a"},\n    "credentials": {"command": "${CMD}"}\n  }\n}\n`);
    const o = uninstallClient(req(), deps());
    expect(o.action).toBe("removed");
    expect(readFileSync(cursorFile(), "utf8")).toBe('{\n  "mcpServers": {\n    "a": {"command": "a"}\n  }\n}\n');
    expect(existsSync(o.backup!)).toBe(true);
  });

  it("reports absent when there is no file or no entry, writing nothing", () => {
    expect(uninstallClient(req(), deps()).action).toBe("absent");
    expect(existsSync(cursorFile())).toBe(false);
  });

  it("will not remove an entry that runs another program unless forced", () => {
    mkdirSync(dirname(cursorFile()));
    writeFileSync(cursorFile(), '{"mcpServers": {"credentials": {"command": "npx", "args": ["other-broker"]}}}');
    throwsCode(() => uninstallClient(req(), deps()), "CONFIG_CONFLICT", "runs npx, not mcp-credentials-broker");
    expect(uninstallClient(req({ force: true }), deps()).action).toBe("removed");
  });
});

describe("install through the client's own CLI", () => {
  it("runs `claude mcp add` when claude is on PATH, and edits nothing", () => {
    onPath.claude = "/fake/bin/claude";
    const o = installClient(req({ client: "claude-code" }), deps());
    expect(o.method).toBe("cli");
    expect(ran).toEqual([["/fake/bin/claude", "mcp", "add", "--scope", "user", "credentials", "--", CMD]]);
    expect(existsSync(join(home, ".claude.json"))).toBe(false);
  });

  it("removes then re-adds with --force when the entry exists with another command", () => {
    onPath.claude = "/fake/bin/claude";
    writeFileSync(join(home, ".claude.json"), '{"numStartups": 3, "mcpServers": {"credentials": {"type": "stdio", "command": "/old/mcp-credentials-broker"}}}');
    throwsCode(() => installClient(req({ client: "claude-code" }), deps()), "CONFIG_CONFLICT", "--force");
    expect(ran).toEqual([]);
    installClient(req({ client: "claude-code", force: true }), deps());
    expect(ran.map((a) => a.slice(1, 3))).toEqual([["mcp", "remove"], ["mcp", "add"]]);
  });

  it("does nothing when the client's config already runs this binary", () => {
    onPath.q = "/fake/bin/q";
    const file = CLIENTS.amazonq.file("user", deps().env);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ mcpServers: { credentials: { command: CMD } } }));
    expect(installClient(req({ client: "amazonq" }), deps()).action).toBe("unchanged");
    expect(ran).toEqual([]);
  });

  it("prints the planned commands in a dry run without running them", () => {
    onPath.code = "/fake/bin/code";
    const o = installClient(req({ client: "vscode", dryRun: true }), deps());
    expect(o.commands).toEqual([["/fake/bin/code", "--add-mcp", JSON.stringify({ name: "credentials", type: "stdio", command: CMD, args: [] })]]);
    expect(ran).toEqual([]);
  });

  it("reports a failing client CLI with its message", () => {
    onPath.q = "/fake/bin/q";
    exitCode = 1;
    throwsCode(() => installClient(req({ client: "amazonq" }), deps()), "CLIENT_COMMAND_FAILED", "`q mcp add --name credentials --command /opt/mcb/bin/mcp-credentials-broker --scope global` failed (exit 1): server already exists");
  });

  it("edits the file for a scope or an operation the CLI lacks, and never runs a Windows .cmd shim", () => {
    onPath.code = "/fake/bin/code";
    expect(installClient(req({ client: "vscode", scope: "project" }), deps()).method).toBe("file");
    expect(uninstallClient(req({ client: "vscode", scope: "project" }), deps()).method).toBe("file");
    onPath.code = "C:\\Program Files\\Microsoft VS Code\\bin\\code.cmd";
    // Dry run: on this Linux host the Windows path would be a relative file name.
    expect(installClient(req({ client: "vscode", dryRun: true }), deps("win32")).method).toBe("file");
    expect(ran).toEqual([]);
  });

  it("uninstalls through `claude mcp remove`", () => {
    onPath.claude = "/fake/bin/claude";
    writeFileSync(join(home, ".claude.json"), JSON.stringify({ mcpServers: { credentials: { command: CMD } } }));
    expect(uninstallClient(req({ client: "claude-code" }), deps()).method).toBe("cli");
    expect(ran).toEqual([["/fake/bin/claude", "mcp", "remove", "--scope", "user", "credentials"]]);
  });
});

describe("inspectClients", () => {
  it("reports per client whether it runs this binary, and unreadable files", () => {
    const env = deps().env;
    installClient(req(), deps());
    installClient(req({ client: "windsurf", command: "/elsewhere/mcp-credentials-broker" }), deps());
    const vscode = CLIENTS.vscode.file("user", env);
    mkdirSync(dirname(vscode), { recursive: true });
    writeFileSync(vscode, "{ not json");
    writeFileSync(join(home, "project", ".mcp.json"), JSON.stringify({ mcpServers: {} }));
    const rows = inspectClients("credentials", (c) => c === CMD, env);
    const by = (client: string, scope = "user") => rows.find((r) => r.client === client && r.scope === scope)!;
    expect(by("cursor")).toMatchObject({ state: "installed", command: CMD, pointsHere: true });
    expect(by("windsurf")).toMatchObject({ state: "installed", pointsHere: false });
    expect(by("vscode").state).toBe("unreadable");
    expect(by("claude").state).toBe("no-config");
    expect(by("claude-code", "project").state).toBe("not-installed");
    expect(rows.some((r) => r.client === "cursor" && r.scope === "project")).toBe(false); // no project file, not listed
  });
});
