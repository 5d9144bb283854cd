// `token mint | verify | revoke | jwks` in-process: flags, output, exit codes, audit lines.
import { describe, expect, it } from "bun:test";
import { auditEvents, auditLines, cli, refusals, tempHome } from "./harness.ts";

describe("token mint", () => {
  refusals([
    [["token", "mint"], 2, /Missing required positional argument: PROVIDER/],
    [["token", "mint", "google"], 2, /Unknown provider 'google'. Use one of: /],
    [["token", "mint", "github", "--ttl", "soon"], 2, /--ttl must be a whole number of seconds \(got "soon"\)/],
    [["token", "mint", "github", "--scopes", "repo"], 2, /Unknown flag '--scopes' for 'token mint'/],
  ]);

  it("a --ttl above the provider's maximum is the core's refusal: exit 1 naming it, audited as a failed mint", async () => {
    const home = tempHome();
    const r = await cli(home, ["token", "mint", "github", "--ttl", "999999"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ttl_seconds 999999 exceeds the maximum of \d+ seconds for provider 'github'/);
    expect(auditEvents(home, "mint")).toEqual([["mint", "error"]]);
  });

  it("prints the token (id and expiry on stderr), repeated and comma-separated --scope joined, and audits the mint", async () => {
    const home = tempHome();
    const r = await cli(home, ["token", "mint", "github", "--scope", "repo:read", "--scope=a,b"]);
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    expect(token.split(".")).toHaveLength(3);
    expect(r.stderr).toMatch(/^token id tok_\S+, expires \d{4}-.*Z\n$/);
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
    expect(claims.scope).toBe("repo:read a b");
    const mint = auditLines(home).filter((l) => l.event === "mint");
    expect(mint.map((l) => [l.outcome, l.provider, l.client])).toEqual([["ok", "github", "cli"]]);
    expect(JSON.stringify(auditLines(home))).not.toContain(token);
  });

  it("--json prints every field", async () => {
    const r = await cli(tempHome(), ["token", "mint", "oauth2", "--scope", "mcp:tools", "--resource", "https://mcp.example.com", "--ttl", "600", "--json"]);
    expect(r.code).toBe(0);
    const t = JSON.parse(r.stdout);
    expect(Object.keys(t).sort()).toEqual(expect.arrayContaining(["token", "tokenId", "expiresAt"]));
    expect(r.stderr).toBe("");
  });
});

describe("token verify and revoke", () => {
  it("verify reads stdin (or the argument), prints valid/invalid, exits 0/1; revoke is audited and makes verify fail", async () => {
    const home = tempHome();
    const minted = JSON.parse((await cli(home, ["token", "mint", "github", "--json"])).stdout) as { token: string; tokenId: string };
    const ok = await cli(home, ["token", "verify"], { input: `${minted.token}\n` });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^valid: ${minted.tokenId} \\(github\\), expires .*Z\\n$`));
    expect(JSON.parse((await cli(home, ["token", "verify", minted.token, "--json"])).stdout)).toEqual(expect.objectContaining({ valid: true }));

    expect(await cli(home, ["token", "revoke", minted.tokenId])).toEqual({ code: 0, stdout: "", stderr: `Revoked ${minted.tokenId}.\n` });
    expect(auditEvents(home, "revoke")).toEqual([
      ["revoke", "intent"],
      ["revoke", "ok"],
    ]);
    const revoked = await cli(home, ["token", "verify"], { input: minted.token });
    expect(revoked.code).toBe(1);
    expect(revoked.stdout).toMatch(/^invalid: .*revoked/i);
    expect(JSON.stringify(auditLines(home))).not.toContain(minted.token);
  });

  it("verify: garbage is invalid (exit 1, no stack), --json says why", async () => {
    const home = tempHome();
    const r = await cli(home, ["token", "verify", "--json"], { input: "not-a-jwt" });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual(expect.objectContaining({ valid: false }));
  });

  it("revoke: no id → exit 2; an unknown flag → exit 2", async () => {
    const home = tempHome();
    expect((await cli(home, ["token", "revoke"])).code).toBe(2);
    const r = await cli(home, ["token", "revoke", "tok_x", "--all"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown flag '--all' for 'token revoke'");
  });
});

describe("token jwks", () => {
  it("prints a public JWKS (no private part); refuses extra flags", async () => {
    const home = tempHome();
    const r = await cli(home, ["token", "jwks"]);
    expect(r.code).toBe(0);
    const jwks = JSON.parse(r.stdout) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const k of jwks.keys) expect(k.d).toBeUndefined();
    expect((await cli(home, ["token", "jwks", "--json"])).code).toBe(2);
  });
});

describe("token", () => {
  it("without a sub-command: exit 2 with usage", async () => {
    const r = await cli(tempHome(), ["token"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("USAGE");
  });
});
