// `secret set` and `secret get` in-process: flags, stdin, output, exit codes and audit lines.
import { describe, expect, it } from "bun:test";
import { auditLines, cli, tempHome } from "./harness.ts";

const VALUE = "s3cr3t-value-CANARY-0f9e8d7c";

describe("secret set", () => {
  const table: { argv: string[]; input?: string; code: number; stderr: RegExp }[] = [
    { argv: ["secret", "set"], input: VALUE, code: 2, stderr: /Missing required positional argument: NAME/ },
    { argv: ["secret", "set", "a", "value-in-argv"], input: VALUE, code: 2, stderr: /only a name/ },
    { argv: ["secret", "set", "a", "--policy", "maybe"], input: VALUE, code: 2, stderr: /Unknown policy 'maybe'. Use one of: allow, confirm, deny/ },
    { argv: ["secret", "set", "a", "--tag", "novalue"], input: VALUE, code: 2, stderr: /Tag 'novalue' is not key=value/ },
    { argv: ["secret", "set", "a", "--polcy", "deny"], input: VALUE, code: 2, stderr: /Unknown flag '--polcy' for 'secret set'/ },
    { argv: ["secret", "set", "a"], input: "", code: 2, stderr: /Empty value: nothing stored/ },
    { argv: ["secret", "set", "a", "--store", "nowhere"], input: VALUE, code: 2, stderr: /Unknown store 'nowhere'/ },
  ];
  for (const t of table) {
    it(`${t.argv.join(" ")} → exit ${t.code}`, async () => {
      const home = tempHome();
      const r = await cli(home, t.argv, { input: t.input });
      expect(r.code).toBe(t.code);
      expect(r.stderr).toMatch(t.stderr);
      expect(r.stdout).toBe("");
      expect(auditLines(home).filter((l) => l.event === "store" && l.outcome === "ok")).toEqual([]);
    });
  }

  it("stores the piped value (one trailing newline dropped) with repeated --tag and --host, says so on stderr, and audits it without the value", async () => {
    const home = tempHome();
    const r = await cli(home, ["secret", "set", "api", "--tag", "env=prod", "--tag=team=core", "--host", "api.example.com", "--host=Example.org", "--policy", "confirm"], { input: `${VALUE}\n` });
    expect(r).toEqual({ code: 0, stdout: "", stderr: "Stored secret 'api'.\n" });
    const list = JSON.parse((await cli(home, ["secret", "list", "--json"])).stdout);
    expect(list).toEqual([expect.objectContaining({ name: "api", policy: "confirm", tags: { env: "prod", team: "core" }, hosts: ["api.example.com", "example.org"] })]);
    const lines = auditLines(home).filter((l) => l.event === "store");
    expect(lines.map((l) => [l.name, l.client, l.outcome])).toEqual([
      ["api", "cli", "intent"],
      ["api", "cli", "ok"],
    ]);
    expect(JSON.stringify(auditLines(home))).not.toContain(VALUE);
  });
});

describe("secret get", () => {
  it("prints the value as it is on a pipe, with a newline on a terminal, and audits the read", async () => {
    const home = tempHome();
    await cli(home, ["secret", "set", "tok"], { input: VALUE });
    expect(await cli(home, ["secret", "get", "tok"])).toEqual({ code: 0, stdout: VALUE, stderr: "" });
    expect((await cli(home, ["secret", "get", "tok"], { tty: true })).stdout).toBe(`${VALUE}\n`);
    expect(auditLines(home).filter((l) => l.event === "resolve" && l.outcome === "ok").map((l) => l.name)).toEqual(["tok", "tok"]);
    expect(JSON.stringify(auditLines(home))).not.toContain(VALUE);
  });

  it("exits 1 for a missing secret, 2 without a name, and refuses a deny secret (use run)", async () => {
    const home = tempHome();
    const missing = await cli(home, ["secret", "get", "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: .*nope/);
    expect((await cli(home, ["secret", "get"])).code).toBe(2);
    await cli(home, ["secret", "set", "locked", "--policy", "deny"], { input: VALUE });
    const denied = await cli(home, ["secret", "get", "locked"]);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toBe("");
    expect(denied.stderr).not.toContain(VALUE);
  });

  it("a confirm secret with no terminal to ask on is refused, the value not printed", async () => {
    const home = tempHome();
    await cli(home, ["secret", "set", "ask", "--policy", "confirm"], { input: VALUE });
    const r = await cli(home, ["secret", "get", "ask"], { env: { DISPLAY: undefined, WAYLAND_DISPLAY: undefined } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
  });
});
