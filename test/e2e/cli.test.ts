// The compiled binary's CLI as a shell user and a script see it: exit codes 0/1/2, stdin for
// values, --json output, help with examples, and the agent rules naming every tool.
import { beforeAll, describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import pkg from "../../package.json";
import { tools } from "../../src/mcp/tools/index.ts";
import { ARGV_LEDGER, connectBroker, readOr, runCli, tempHome, withoutFallbackWarning } from "./harness.ts";

const canary = () => `CANARY-${randomUUID()}`;
// biome-ignore lint: matching ANSI escapes is the point
const ANSI = /\u001b\[/;

describe("--version and --help", () => {
  it("prints the version, commit and target, and exits 0", async () => {
    const r = await runCli(["--version"], { home: tempHome() });
    expect(r.code).toBe(0);
    const target = `${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`;
    expect(r.stdout).toMatch(new RegExp(`^mcp-credentials-broker ${pkg.version.replaceAll(".", "\\.")} \\(commit ([0-9a-f]{12}(-dirty)?|unknown), ${target}\\)\n$`));
  });

  for (const args of [["--help"], ["secret", "--help"], ["secret", "set", "--help"], ["token", "mint", "--help"], ["status", "-h"], ["install", "--help"], ["uninstall", "--help"], ["doctor", "--help"], ["secret", "migrate", "--help"]]) {
    it(`\`${args.join(" ")}\` exits 0 with usage and EXAMPLES, uncoloured when piped`, async () => {
      const r = await runCli(args, { home: tempHome() });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("USAGE");
      expect(r.stdout).toContain("EXAMPLES");
      expect(r.stdout).toContain("mcp-credentials-broker");
      expect(r.stdout).not.toMatch(ANSI);
    });
  }

  it("lists the sub-commands in the root help", async () => {
    const r = await runCli(["--help"], { home: tempHome() });
    for (const cmd of ["serve", "status", "secret", "token", "rules", "install", "uninstall", "doctor"]) expect(r.stdout).toContain(cmd);
  });
});

describe("usage errors exit 2", () => {
  it("refuses an unknown command with exit 2 and a plain message on stderr", async () => {
    const r = await runCli(["frobnicate"], { home: tempHome() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: .*unknown command.*frobnicate/i);
    expect(r.stderr).not.toMatch(ANSI);
    expect(r.stdout).toBe("");
  });

  it("refuses an unknown mint provider with exit 2", async () => {
    const r = await runCli(["token", "mint", "google"], { home: tempHome() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown provider 'google'");
  });

  it("refuses `secret set` with a value on the command line (exit 2), storing nothing", async () => {
    const home = tempHome();
    // Not a CANARY- value: this argv is recorded on purpose.
    const r = await runCli(["secret", "set", "argv-name", "value-on-the-command-line"], { home, input: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/only a name/);
    expect((await runCli(["secret", "list", "--json"], { home })).stdout).not.toContain("argv-name");
  });

  it("refuses `secret set` with an empty stdin (exit 2)", async () => {
    const r = await runCli(["secret", "set", "empty"], { home: tempHome(), input: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/empty value/i);
  });

  it("refuses a reserved or control-character name (exit 2)", async () => {
    const home = tempHome();
    expect((await runCli(["secret", "set", "mcb-internal:jwt-es256-key"], { home, input: "x" })).code).toBe(2);
    expect((await runCli(["secret", "set", "bad\nname"], { home, input: "x" })).code).toBe(2);
  });
});

describe("secrets", () => {
  let home: string;
  let value: string;
  beforeAll(() => {
    home = tempHome();
    value = canary();
  });

  it("`secret set` reads the value from stdin (dropping one trailing newline)", async () => {
    const r = await runCli(["secret", "set", "github-token", "--tag", "env=prod"], { home, input: `${value}\n` });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Stored secret 'github-token'");
    expect(r.stdout + r.stderr).not.toContain(value);
  });

  it("`secret get` prints exactly the value (no newline when piped)", async () => {
    const r = await runCli(["secret", "get", "github-token"], { home });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(value);
    // Only the store-fallback warning (no D-Bus session here, see harness.ts) may be printed.
    expect(withoutFallbackWarning(r.stderr)).toBe("");
  });

  it("keeps a multi-line value byte for byte (only the last newline is dropped)", async () => {
    const multi = `${canary()}\nsecond line\r\n\n`;
    expect((await runCli(["secret", "set", "multi"], { home, input: `${multi}\n` })).code).toBe(0);
    expect((await runCli(["secret", "get", "multi"], { home })).stdout).toBe(multi);
  });

  it("`secret list --json` shows names and tags, never values", async () => {
    const r = await runCli(["secret", "list", "--json"], { home });
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(list.map((e) => e.name)).toEqual(["github-token", "multi"]);
    expect(list[0]).toMatchObject({ name: "github-token", tags: { env: "prod" }, createdAt: expect.any(Number), updatedAt: expect.any(Number) });
    for (const e of list) expect(e).not.toHaveProperty("value");
    expect(r.stdout).not.toContain(value);
    expect(r.stdout).not.toContain("mcb-internal:");
  });

  it("`secret list` (human) shows names without values", async () => {
    const r = await runCli(["secret", "list"], { home });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("github-token");
    expect(r.stdout).toContain("env=prod");
    expect(r.stdout).not.toContain(value);
  });

  it("shares secrets with a serving broker on the same MCB_HOME", async () => {
    const b = await connectBroker({ home });
    try {
      const got = await b.client.callTool({ name: "get_secret", arguments: { name: "github-token", purpose: "cli interop" } });
      const id = JSON.parse((got.content as { text: string }[])[0]!.text).reference.id;
      const resolved = await b.client.callTool({ name: "resolve_secret", arguments: { reference_id: id } });
      expect(JSON.parse((resolved.content as { text: string }[])[0]!.text).value).toBe(value);
    } finally {
      await b.close();
    }
  });

  it("`secret rm` deletes; then get fails with exit 1 and rm again fails", async () => {
    const rm = await runCli(["secret", "rm", "github-token"], { home });
    expect(rm.code).toBe(0);
    expect(rm.stderr).toContain("Deleted secret 'github-token'");
    const get = await runCli(["secret", "get", "github-token"], { home });
    expect(get.code).toBe(1);
    expect(get.stdout).toBe("");
    expect(get.stderr).toContain("error: No secret named 'github-token'");
    expect((await runCli(["secret", "rm", "github-token"], { home })).code).toBe(1);
    const list = JSON.parse((await runCli(["secret", "list", "--json"], { home })).stdout) as { name: string }[];
    expect(list.map((e) => e.name)).toEqual(["multi"]);
  });

  it("audits CLI operations with client \"cli\"", () => {
    const lines = readOr(join(home, "audit.jsonl")).trim().split("\n").map((l) => JSON.parse(l));
    const cli = lines.filter((l) => l.client === "cli");
    expect(cli.map((l) => l.event)).toEqual(expect.arrayContaining(["store", "resolve", "delete"]));
    expect(readOr(join(home, "audit.jsonl"))).not.toContain(value);
  });
});

describe("status", () => {
  it("`status --json` reports version, data dir, store, secret names and signing mode", async () => {
    const home = tempHome();
    await runCli(["secret", "set", "one"], { home, input: canary() });
    const r = await runCli(["status", "--json"], { home });
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(Object.keys(s).sort()).toEqual(["dataDir", "providers", "remote", "secrets", "store", "tokenSigning", "version"]);
    expect(s.version).toBe(pkg.version);
    expect(s.dataDir).toBe(home);
    expect(s.store).toMatchObject({ backend: "file", description: expect.stringContaining(join(home, "secrets.jsonl")), reason: expect.any(String) });
    expect(s.secrets).toEqual(["one"]);
    expect(s.remote).toEqual([]);
    expect(s.tokenSigning).toMatch(/^ES256/);
  });

  it("reports HS256 when JWT_SECRET is set, and an encrypted store with MCB_STORE_KEY", async () => {
    const r = await runCli(["status", "--json"], { home: tempHome(), env: { JWT_SECRET: "j".repeat(40), MCB_STORE_KEY: "passphrase" } });
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.tokenSigning).toMatch(/^HS256/);
    expect(s.store.description).toContain("AES-256-GCM");
  });

  it("uses the memory store with --store memory", async () => {
    const s = JSON.parse((await runCli(["status", "--json", "--store", "memory"], { home: tempHome() })).stdout);
    expect(s.store.backend).toBe("memory");
  });
});

describe("tokens", () => {
  let home: string;
  let minted: Record<string, any>;
  beforeAll(async () => {
    home = tempHome();
    const r = await runCli(["token", "mint", "github", "--scope", "repo", "--json"], { home });
    expect(r.code).toBe(0);
    minted = JSON.parse(r.stdout);
  });

  it("`token mint github --scope repo --json` prints the seed's token fields", () => {
    expect(Object.keys(minted).sort()).toEqual(["expiresAt", "expiresIn", "provider", "scopes", "token", "tokenId"]);
    // No asymmetric matchers in toMatchObject here: Bun 1.4.5 writes the matcher into the
    // received object, which would corrupt `minted` for the tests below.
    expect(minted).toMatchObject({ provider: "github", scopes: ["repo"], expiresIn: 3600 });
    expect(minted.tokenId).toMatch(/^tok_/);
    expect(JSON.parse(Buffer.from(minted.token.split(".")[0], "base64url").toString()).alg).toBe("ES256");
  });

  it("`token verify` reads the token from stdin and exits 0 when valid", async () => {
    const r = await runCli(["token", "verify"], { home, input: `${minted.token}\n` });
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith(`valid: ${minted.tokenId}`);
    const j = await runCli(["token", "verify", "--json"], { home, input: minted.token });
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ valid: true, claims: { jti: minted.tokenId, provider: "github", scopes: ["repo"] } });
  });

  it("`token verify` exits 1 for garbage", async () => {
    const r = await runCli(["token", "verify"], { home, input: "not.a.jwt" });
    expect(r.code).toBe(1);
    expect(r.stdout).toStartWith("invalid:");
  });

  it("`token mint` refuses a TTL above the provider's maximum (exit 1, naming it)", async () => {
    const r = await runCli(["token", "mint", "github", "--ttl", "28801"], { home });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("28800");
  });

  it("`token revoke` makes verify fail with exit 1, in a later process", async () => {
    const rv = await runCli(["token", "revoke", minted.tokenId], { home });
    expect(rv.code).toBe(0);
    expect(rv.stderr).toContain(minted.tokenId);
    const r = await runCli(["token", "verify"], { home, input: minted.token });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^invalid: .*revoked/i);
  });

  it("`token jwks` prints a public key that has no private part", async () => {
    const r = await runCli(["token", "jwks"], { home });
    expect(r.code).toBe(0);
    const jwks = JSON.parse(r.stdout);
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig", kid: expect.any(String) });
    expect(jwks.keys[0]).not.toHaveProperty("d");
  });
});

describe("rules", () => {
  it("mentions every tool name the server registers", async () => {
    const r = await runCli(["rules"], { home: tempHome() });
    expect(r.code).toBe(0);
    const names = new Set([
      ...tools.map((t) => t.name),
      ...["get_secret", "resolve_secret", "store_secret", "mint_token", "revoke_token", "get_broker_stats", "list_secrets", "delete_secret", "verify_token"],
    ]);
    for (const name of names) expect(r.stdout).toContain(name);
    expect(r.stdout).toContain("mcp-credentials-broker secret set");
  });
});

// Runs last in this file: no secret value of this suite (CANARY-<uuid>) reached a command line.
it("put no CANARY- value on any command line recorded in the argv ledger", () => {
  expect(readOr(ARGV_LEDGER)).not.toMatch(/CANARY-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
});
