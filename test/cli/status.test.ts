// `status` in-process: the human report and --json, the store's reason, signing mode.
import { describe, expect, it } from "bun:test";
import { cli, tempHome } from "./harness.ts";

describe("status", () => {
  it("--json: version, data dir, store and why, secret names, providers, remote logins, signing", async () => {
    const home = tempHome();
    await cli(home, ["secret", "set", "b"], { input: "v-1234567890" });
    await cli(home, ["secret", "set", "a"], { input: "v-1234567890" });
    const r = await cli(home, ["status", "--json"], { env: { GITHUB_CLIENT_ID: "gh" } });
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toEqual({
      version: expect.any(String),
      dataDir: home,
      store: expect.objectContaining({ backend: "file", reason: "--store file / MCB_STORE=file" }),
      secrets: ["a", "b"],
      providers: [{ provider: "github", source: "environment" }],
      remote: [],
      tokenSigning: "ES256 (key pair kept in the store)",
    });
    expect(r.stdout).not.toContain("v-1234567890");
  });

  it("human: one labelled line each; HS256 with JWT_SECRET; --store memory", async () => {
    const home = tempHome();
    const r = await cli(home, ["status", "--store", "memory"], { env: { JWT_SECRET: "jwt-secret-0123456789abcdef0123456789" } });
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^mcp-credentials-broker \S+/);
    expect(lines).toContain(`data dir:      ${home}`);
    expect(lines).toContain("               (--store memory / MCB_STORE=memory)");
    expect(lines).toContain("secrets:       0");
    expect(lines).toContain("OAuth:         no provider configured (see: mcp-credentials-broker provider list)");
    expect(lines).toContain("remote MCP:    no login (see: mcp-credentials-broker connect --help)");
    expect(lines).toContain("token signing: HS256 (JWT_SECRET)");
    expect(r.stdout).not.toContain("jwt-secret-0123456789abcdef0123456789");
  });

  it("bad --store → exit 2; unknown flag → exit 2; no positional taken", async () => {
    const home = tempHome();
    expect((await cli(home, ["status", "--store", "cloud"])).stderr).toContain("Unknown store 'cloud'");
    expect((await cli(home, ["status", "--store", "cloud"])).code).toBe(2);
    expect((await cli(home, ["status", "--verbose"])).code).toBe(2);
  });
});
