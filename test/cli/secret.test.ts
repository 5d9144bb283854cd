// `secret rm | list | policy | approvals | migrate` in-process: flags, output (human and
// --json), exit codes, and the audit line each change writes (never a value).
import { describe, expect, it } from "bun:test";
import { bootId, FileApprovalLedger } from "../../src/approval/ledger.ts";
import { auditEvents, auditLines, auditText, cli, refusals, tempHome } from "./harness.ts";

const VALUE = "secret-value-CANARY-5a4b3c2d1e";

async function withSecret(name = "tok", extra: string[] = []): Promise<string> {
  const home = tempHome();
  expect((await cli(home, ["secret", "set", name, ...extra], { input: VALUE })).code).toBe(0);
  return home;
}

describe("secret rm", () => {
  it("deletes, says so on stderr, and audits intent then ok", async () => {
    const home = await withSecret();
    expect(await cli(home, ["secret", "rm", "tok"])).toEqual({ code: 0, stdout: "", stderr: "Deleted secret 'tok'.\n" });
    expect(auditEvents(home, "delete")).toEqual([
      ["delete", "intent"],
      ["delete", "ok"],
    ]);
    expect(auditText(home)).not.toContain(VALUE);
  });

  refusals([
    [["secret", "rm"], 2, /Missing required positional argument: NAME/],
    [["secret", "rm", "tok", "--force"], 2, /Unknown flag '--force' for 'secret rm'/],
  ]);

  it("a secret that does not exist: exit 1, the failed delete audited", async () => {
    const home = tempHome();
    const r = await cli(home, ["secret", "rm", "nope"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*nope/);
    expect(auditEvents(home, "delete")).toEqual([["delete", "error"]]);
  });
});

describe("secret list", () => {
  it("says how to add one when empty; --json is []", async () => {
    const home = tempHome();
    expect(await cli(home, ["secret", "list"])).toEqual({ code: 0, stdout: "No secrets stored. Add one with: mcp-credentials-broker secret set <name>\n", stderr: "" });
    expect(JSON.parse((await cli(home, ["secret", "list", "--json"])).stdout)).toEqual([]);
  });

  it("prints one escaped row per secret (policy, approval, hosts, tags), never a value", async () => {
    const home = await withSecret("api", ["--tag", "env=prod", "--host", "api.example.com", "--policy", "confirm"]);
    await cli(home, ["secret", "policy", "api", "confirm", "--via", "os", "--remember", "10m"]);
    expect((await cli(home, ["secret", "set", "other", "--tag", "note=a\u001b[2Jb"], { input: VALUE })).code).toBe(0);
    const r = await cli(home, ["secret", "list"]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trimEnd().split("\n");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^api\tconfirm\tupdated \d{4}-\d\d-\d\dT[\d:.]+Z\tvia os, remember 10m\thosts api\.example\.com\tenv=prod$/);
    expect(rows[1]).toMatch(/^other\tallow\tupdated .*\tnote=a\\u001b\[2Jb$/);
    expect(r.stdout).not.toContain(VALUE);
    const json = JSON.parse((await cli(home, ["secret", "list", "--json"])).stdout);
    expect(json.map((s: { name: string }) => s.name)).toEqual(["api", "other"]);
    expect(JSON.stringify(json)).not.toContain(VALUE);
  });

  it("refuses an unknown flag (exit 2)", async () => {
    const r = await cli(tempHome(), ["secret", "list", "--jsn"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown flag '--jsn' for 'secret list'");
  });
});

describe("secret policy", () => {
  refusals([
    [["secret", "policy", "tok"], 2, /Missing required positional argument: POLICY/],
    [["secret", "policy", "tok", "sometimes"], 2, /Unknown policy 'sometimes'/],
    [["secret", "policy", "tok", "allow", "--via", "os"], 2, /--via and --remember apply to policy 'confirm' only, not 'allow'/],
    [["secret", "policy", "tok", "confirm", "--via", "pigeon"], 2, /Unknown --via 'pigeon'. Use one of: any, os, client\./],
    [["secret", "policy", "tok", "confirm", "--remember", "forever"], 2, /remember/i],
    [["secret", "policy", "tok", "confirm", "--remember", "9h"], 2, /8h|8 h|hours/i],
  ]);

  it("sets confirm with --via and --remember, says so, and audits the new policy", async () => {
    const home = await withSecret();
    const r = await cli(home, ["secret", "policy", "tok", "confirm", "--via", "client", "--remember", "90s"]);
    expect(r).toEqual({ code: 0, stdout: "", stderr: "Secret 'tok' now has policy 'confirm' (asked via client, an approval remembered for 90s). Approvals remembered for it were revoked.\n" });
    expect(auditLines(home).filter((l) => l.event === "policy").map((l) => [l.outcome, l.policy, l.name])).toEqual([
      ["intent", "confirm", "tok"],
      ["ok", "confirm", "tok"],
    ]);
    expect((await cli(home, ["secret", "policy", "tok", "deny"])).stderr).toBe("Secret 'tok' now has policy 'deny'. Approvals remembered for it were revoked.\n");
    expect(auditText(home)).not.toContain(VALUE);
  });

  it("exits 1 for a secret that does not exist", async () => {
    const r = await cli(tempHome(), ["secret", "policy", "nope", "deny"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*nope/);
  });
});

describe("secret approvals", () => {
  /** An approval remembered by this (live) process, as a serving broker records it. */
  function remember(home: string, name: string, client = "claude-code") {
    const now = Date.now();
    new FileApprovalLedger({ dataDir: home, pid: process.pid, boot: bootId(process.platform), now: () => now }).add({ name, client, approver: "zenity", createdAt: now, expiresAt: now + 600_000 });
  }

  it("lists nothing, with the hint; --json []", async () => {
    const home = tempHome();
    expect((await cli(home, ["secret", "approvals"])).stdout).toStartWith("No remembered approvals.");
    expect(JSON.parse((await cli(home, ["secret", "approvals", "--json"])).stdout)).toEqual([]);
  });

  it("lists remembered approvals (human and --json), filtered by name", async () => {
    const home = tempHome();
    remember(home, "a");
    remember(home, "b", "cursor");
    const rows = (await cli(home, ["secret", "approvals"])).stdout.trimEnd().split("\n");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(new RegExp(`^a\tclaude-code\tapproved via zenity\t(10m|9m\\d*s?) left \\(until .*Z\\)\tbroker pid ${process.pid}$`));
    const json = JSON.parse((await cli(home, ["secret", "approvals", "b", "--json"])).stdout);
    expect(json).toEqual([expect.objectContaining({ name: "b", client: "cursor", approver: "zenity", pid: process.pid })]);
    expect(json[0].id).toBeUndefined();
  });

  it("--clear revokes them (all, or one secret's) and audits approvals-clear", async () => {
    const home = tempHome();
    remember(home, "a");
    remember(home, "b");
    expect(await cli(home, ["secret", "approvals", "a", "--clear"])).toEqual({ code: 0, stdout: "Revoked 1 remembered approval of 'a'.\n", stderr: "" });
    expect(JSON.parse((await cli(home, ["secret", "approvals", "--clear", "--json"])).stdout)).toEqual({ cleared: 1 });
    expect(auditLines(home).filter((l) => l.event === "approvals-clear").map((l) => [l.outcome, l.name ?? null])).toEqual([
      ["intent", "a"],
      ["ok", "a"],
      ["intent", null],
      ["ok", null],
    ]);
  });

  it("refuses an unknown flag", async () => {
    const r = await cli(tempHome(), ["secret", "approvals", "--all"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown flag '--all'");
  });
});

describe("secret migrate", () => {
  refusals([
    [["secret", "migrate"], 2, /Missing required argument: --from/],
    [["secret", "migrate", "--from", "file"], 2, /Missing required argument: --to/],
    [["secret", "migrate", "--from", "file", "--to", "memory"], 2, /--to must be file or keychain/],
    [["secret", "migrate", "--from", "disk", "--to", "file"], 2, /--from must be file or keychain/],
    [["secret", "migrate", "--from", "file", "--to", "file"], 2, /--from and --to name the same backend/],
    [["secret", "migrate", "--from", "file", "--to", "keychain", "--force"], 2, /Unknown flag '--force'/],
  ]);

  it("a target that cannot be opened fails with exit 1, the attempt audited (intent, then error), the source untouched", async () => {
    const home = await withSecret();
    // No D-Bus session here: the keychain is unavailable.
    const r = await cli(home, ["secret", "migrate", "--from", "file", "--to", "keychain"], { env: { DBUS_SESSION_BUS_ADDRESS: undefined } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*keychain/i);
    expect(auditLines(home).filter((l) => l.event === "migrate").map((l) => [l.outcome, l.target])).toEqual([
      ["intent", "file → keychain"],
      ["error", "file → keychain"],
    ]);
    expect((await cli(home, ["secret", "get", "tok"])).stdout).toBe(VALUE);
    expect(auditText(home)).not.toContain(VALUE);
  });
});
