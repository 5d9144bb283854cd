// `install`, `uninstall` and `doctor` in-process, with InstallDeps over a temp home (the client
// configs are files there; no client CLI on PATH): flags and their errors, the outcome printed,
// and the audit line of each real config change (none for a dry run or nothing to do).
import { describe, expect, it } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { InstallDeps } from "../../src/mcp-clients/install.ts";
import { auditLines, cli, refusals, tempHome } from "./harness.ts";

/** The machine as install sees it: configs under `home`, no client CLIs, nothing spawned. */
function machine(home: string): () => Promise<InstallDeps> {
  return async () => ({
    env: { platform: process.platform, home, appData: join(home, "AppData"), xdgConfigHome: join(home, ".config"), cwd: join(home, "project") },
    which: () => undefined,
    run: () => {
      throw new Error("no client CLI is run in these tests");
    },
    now: () => Date.now(),
  });
}

const BIN = process.execPath; // an absolute path that exists

function changes(home: string) {
  return auditLines(home)
    .filter((l) => l.event === "install" || l.event === "uninstall")
    .map((l) => [l.event, l.outcome, l.target]);
}

describe("install and uninstall: flags", () => {
  refusals(
    [
      [["install"], 2, /Missing required positional argument: CLIENT/],
      [["install", "emacs"], 2, /Unknown client 'emacs'. Choose one of: claude, claude-code, cursor, vscode, windsurf, amazonq/],
      [["install", "cursor", "--scope", "global"], 2, /--scope must be user or project, not 'global'/],
      [["install", "cursor", "--name", "-bad name"], 2, /--name must be 1–64 letters/],
      [["install", "cursor", "--command-path", "relative/bin"], 2, /--command-path must be an absolute path/],
      [["install", "cursor", "--command-path", "/nonexistent/mcp-credentials-broker"], 2, /--command-path \/nonexistent\/mcp-credentials-broker does not exist/],
      [["install", "cursor", "--dryrun"], 2, /Unknown flag '--dryrun' for 'install'/],
      [["uninstall", "cursor", "--command-path", BIN], 2, /Unknown flag '--command-path' for 'uninstall'/],
      [["uninstall", "emacs"], 2, /Unknown client 'emacs'/],
    ],
    { installDeps: machine },
  );
});

describe("install and uninstall: changes", () => {
  it("--dry-run prints the diff and writes nothing, audits nothing", async () => {
    const home = tempHome();
    const r = await cli(home, ["install", "cursor", "--dry-run", "--command-path", BIN], { installDeps: machine(home) });
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith(`Would add 'credentials' in Cursor (${join(home, ".cursor", "mcp.json")})`);
    expect(r.stdout).toContain(BIN);
    expect(existsSync(join(home, ".cursor", "mcp.json"))).toBe(false);
    expect(changes(home)).toEqual([]);
  });

  it("install writes the entry and audits it; a second install has nothing to do (no line); uninstall removes it, audited", async () => {
    const home = tempHome();
    const deps = machine(home);
    const first = await cli(home, ["install", "cursor", "--command-path", BIN, "--name", "creds"], { installDeps: deps });
    expect(first.code).toBe(0);
    expect(first.stdout).toStartWith(`Added 'creds' in Cursor (${join(home, ".cursor", "mcp.json")})`);
    expect(first.stdout).toContain("Next: ");
    expect(JSON.parse(readFileSync(join(home, ".cursor", "mcp.json"), "utf8")).mcpServers.creds.command).toBe(BIN);
    expect(changes(home)).toEqual([
      ["install", "intent", "cursor (user): creds"],
      ["install", "ok", "cursor (user): creds"],
    ]);

    const again = await cli(home, ["install", "cursor", "--command-path", BIN, "--name", "creds"], { installDeps: deps });
    expect(again.stdout).toContain("already runs this binary; nothing to do.");
    expect(changes(home)).toHaveLength(2);

    const rm = await cli(home, ["uninstall", "cursor", "--name", "creds", "--force"], { installDeps: deps });
    expect(rm.code).toBe(0);
    expect(rm.stdout).toStartWith("Removed 'creds' from Cursor");
    expect(changes(home).slice(2)).toEqual([
      ["uninstall", "intent", "cursor (user): creds"],
      ["uninstall", "ok", "cursor (user): creds"],
    ]);
    const none = await cli(home, ["uninstall", "cursor", "--name", "creds"], { installDeps: deps });
    expect(none.stdout).toContain("has no server 'creds'");
    expect(changes(home)).toHaveLength(4);
  });

  it("a malformed config is refused (exit 1), unchanged, and nothing is audited", async () => {
    const home = tempHome();
    mkdirSync(join(home, ".cursor"), { recursive: true });
    writeFileSync(join(home, ".cursor", "mcp.json"), "{ not json");
    const r = await cli(home, ["install", "cursor", "--command-path", BIN], { installDeps: machine(home) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is not valid JSON");
    expect(readFileSync(join(home, ".cursor", "mcp.json"), "utf8")).toBe("{ not json");
    expect(changes(home)).toEqual([]);
  });

  it("an entry running another command needs --force (exit 1, CONFIG_CONFLICT), and is then repointed, audited", async () => {
    const home = tempHome();
    mkdirSync(join(home, ".cursor"), { recursive: true });
    writeFileSync(join(home, ".cursor", "mcp.json"), JSON.stringify({ mcpServers: { credentials: { command: "/opt/other" } } }));
    const r = await cli(home, ["install", "cursor", "--command-path", BIN], { installDeps: machine(home) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--force");
    expect(changes(home)).toEqual([]);
    const forced = await cli(home, ["install", "cursor", "--command-path", BIN, "--force"], { installDeps: machine(home) });
    expect(forced.stdout).toStartWith("Repointed 'credentials' in Cursor");
    expect(changes(home).map((c) => c[1])).toEqual(["intent", "ok"]);
  });
});

describe("doctor", () => {
  it("--json has every section and the problems; the exit code says whether there are any", async () => {
    const home = tempHome();
    const r = await cli(home, ["doctor", "--json"], { installDeps: machine(home) });
    const d = JSON.parse(r.stdout);
    expect(Object.keys(d)).toEqual(["binary", "MCP clients", "storage", "data dir", "approval", "problems"]);
    expect(r.code).toBe(d.problems.length ? 1 : 0);
    expect(d["MCP clients"].every((c: { state: string }) => c.state === "no-config")).toBe(true);
  });

  it("human: one heading per section and the verdict; an installed entry not pointing here is a problem naming the fix", async () => {
    const home = tempHome();
    mkdirSync(join(home, ".cursor"), { recursive: true });
    writeFileSync(join(home, ".cursor", "mcp.json"), JSON.stringify({ mcpServers: { credentials: { command: "/opt/other" } } }));
    const r = await cli(home, ["doctor"], { installDeps: machine(home) });
    expect(r.code).toBe(1);
    for (const h of ["binary:", "MCP clients:", "storage:", "data dir:", "approval:"]) expect(r.stdout.split("\n")).toContain(h);
    expect(r.stdout).toContain("runs /opt/other, not this binary: run `mcp-credentials-broker install cursor --force` to point it here.");
    expect(r.stdout).toMatch(/\n\d+ problems?:\n/);
  });

  it("an unknown flag → exit 2", async () => {
    const home = tempHome();
    expect((await cli(home, ["doctor", "--verbose"], { installDeps: machine(home) })).code).toBe(2);
  });
});
