// The compiled binary's MCP tools as a client sees them: tools/list, the seed's flow and result
// fields, single-use and expiring references. Seed = mcp-credentials-broker 1.0.4's src/index.ts.
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ErrorCode } from "../../src/errors.ts";
import { ARGV_LEDGER, body, connectBroker, readOr, tempHome, type Connected } from "./harness.ts";

// Secret values in e2e suites are CANARY-<uuid>, so the argv ledger can be grepped for any of them.
const canary = () => `CANARY-${randomUUID()}`;

interface ToolResult {
  content: { type: string; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

let home: string;
let broker: Connected;

beforeAll(async () => {
  home = tempHome();
  broker = await connectBroker({ home, clientName: "tools-e2e" });
});
afterAll(async () => {
  await broker?.close();
});

async function call(name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  return (await broker.client.callTool({ name, arguments: args })) as ToolResult;
}

/** A success body, checked against the wire contract: JSON text in content[0] equal to structuredContent. */
async function ok(name: string, args: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const r = await call(name, args);
  expect(r.isError ?? false).toBe(false);
  expect(r.content[0]!.type).toBe("text");
  const parsed = body(r);
  expect(r.structuredContent).toEqual(parsed);
  expect(parsed.success).toBe(true);
  return parsed;
}

/** An error message, checked against the seed's `{ success: false, error, code }` JSON text with isError (and `code`). */
async function fail(name: string, args: Record<string, unknown>, code: ErrorCode): Promise<string> {
  const r = await call(name, args);
  expect(r.isError).toBe(true);
  const parsed = body(r);
  expect(parsed).toEqual({ success: false, error: expect.any(String), code });
  expect(parsed.error.length).toBeGreaterThan(10);
  return parsed.error;
}

describe("tools/list from the compiled binary", () => {
  let tools: Map<string, Tool>;
  beforeAll(async () => {
    tools = new Map((await broker.client.listTools()).tools.map((t) => [t.name, t]));
  });

  // name → [properties, required] as the seed declares them (plus our added tools).
  const expected: Record<string, [string[], string[]]> = {
    get_secret: [["name", "purpose", "ttl_seconds"], ["name", "purpose"]],
    resolve_secret: [["reference_id"], ["reference_id"]],
    store_secret: [["name", "value", "tags"], ["name", "value"]],
    mint_token: [["provider", "scopes", "resource", "ttl_seconds"], ["provider", "scopes"]],
    revoke_token: [["token_id"], ["token_id"]],
    get_broker_stats: [[], []],
    list_secrets: [[], []],
    delete_secret: [["name"], ["name"]],
    verify_token: [["token"], ["token"]],
    start_oauth_flow: [["provider", "scopes", "secret_name", "authorization_endpoint", "token_endpoint"], ["provider", "scopes", "secret_name"]],
  };

  for (const [name, [props, required]] of Object.entries(expected)) {
    it(`has ${name} with the seed's parameters, required fields, a description and an output schema`, () => {
      const t = tools.get(name);
      expect(t).toBeDefined();
      expect(t!.description?.length ?? 0).toBeGreaterThan(20);
      expect(t!.inputSchema.type).toBe("object");
      expect(Object.keys(t!.inputSchema.properties ?? {}).sort()).toEqual([...props].sort());
      expect([...(t!.inputSchema.required ?? [])].sort()).toEqual([...required].sort());
      expect(t!.outputSchema?.type).toBe("object");
      expect(t!.outputSchema?.required).toContain("success");
    });
  }

  it("offers exactly the seed's mint_token providers", () => {
    const provider = tools.get("mint_token")!.inputSchema.properties!.provider as { enum: string[] };
    expect([...provider.enum].sort()).toEqual(["aws", "azure", "custom", "gcp", "github", "oauth2", "okta"]);
    const scopes = tools.get("mint_token")!.inputSchema.properties!.scopes as { type: string; items: { type: string } };
    expect(scopes.type).toBe("array");
    expect(scopes.items.type).toBe("string");
  });

  it("types get_secret.ttl_seconds as an integer defaulting to 3600", () => {
    const ttl = tools.get("get_secret")!.inputSchema.properties!.ttl_seconds as { type: string; default: number };
    expect(ttl.type).toBe("integer");
    expect(ttl.default).toBe(3600);
  });
});

describe("the seed's flow: store_secret → get_secret → resolve_secret", () => {
  it("returns the stored value, with the seed's field names", async () => {
    const value = canary();
    const stored = await ok("store_secret", { name: "github-token", value, tags: { env: "prod" } });
    expect(Object.keys(stored).sort()).toEqual(["message", "success"]);
    expect(stored.message).toContain("github-token");

    const before = Date.now();
    const got = await ok("get_secret", { name: "github-token", purpose: "list open issues" });
    const after = Date.now();
    expect(Object.keys(got).sort()).toEqual(["message", "reference", "success"]);
    expect(typeof got.message).toBe("string");
    const ref = got.reference;
    expect(Object.keys(ref).sort()).toEqual(["expiresAt", "expiresIn", "id", "name", "purpose"]);
    expect(ref).toMatchObject({ name: "github-token", purpose: "list open issues", expiresIn: 3600 });
    // expiresAt is epoch milliseconds (not seconds), one default TTL after the call.
    expect(ref.expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(ref.expiresAt).toBeLessThanOrEqual(after + 3_600_000);
    expect(JSON.stringify(got)).not.toContain(value);

    const resolved = await ok("resolve_secret", { reference_id: ref.id });
    expect(resolved).toEqual({ success: true, value });
  });

  it("honours ttl_seconds in expiresIn and expiresAt", async () => {
    await ok("store_secret", { name: "short", value: canary() });
    const before = Date.now();
    const ref = (await ok("get_secret", { name: "short", purpose: "p", ttl_seconds: 120 })).reference;
    expect(ref.expiresIn).toBe(120);
    expect(ref.expiresAt).toBeGreaterThanOrEqual(before + 120_000);
    expect(ref.expiresAt).toBeLessThanOrEqual(Date.now() + 120_000);
  });

  it("replaces a value stored twice under one name", async () => {
    const v2 = canary();
    await ok("store_secret", { name: "rotated", value: canary() });
    await ok("store_secret", { name: "rotated", value: v2 });
    const ref = (await ok("get_secret", { name: "rotated", purpose: "p" })).reference.id;
    expect((await ok("resolve_secret", { reference_id: ref })).value).toBe(v2);
  });

  it("keeps multi-line and non-ASCII values byte for byte", async () => {
    const value = `${canary()}\nline two\ttab — ünïcødé 🔑\n`;
    await ok("store_secret", { name: "multiline", value });
    const ref = (await ok("get_secret", { name: "multiline", purpose: "p" })).reference.id;
    expect((await ok("resolve_secret", { reference_id: ref })).value).toBe(value);
  });
});

describe("references", () => {
  it("refuses a reference resolved twice", async () => {
    await ok("store_secret", { name: "once", value: canary() });
    const ref = (await ok("get_secret", { name: "once", purpose: "p" })).reference.id;
    await ok("resolve_secret", { reference_id: ref });
    const err = await fail("resolve_secret", { reference_id: ref }, "REFERENCE_NOT_FOUND");
    expect(err).toMatch(/single-use|already used/i);
    expect(err).toContain("get_secret");
  });

  it("refuses an unknown reference", async () => {
    expect(await fail("resolve_secret", { reference_id: `ref_${randomUUID()}` }, "REFERENCE_NOT_FOUND")).toMatch(/unknown secret reference/i);
  });

  it("refuses a reference after its TTL (ttl_seconds: 1)", async () => {
    await ok("store_secret", { name: "expiring", value: canary() });
    const ref = (await ok("get_secret", { name: "expiring", purpose: "p", ttl_seconds: 1 })).reference;
    expect(ref.expiresIn).toBe(1);
    // Wait until the broker's own expiresAt has passed (same machine clock), plus a margin.
    while (Date.now() < ref.expiresAt + 100) await Bun.sleep(ref.expiresAt + 100 - Date.now());
    const err = await fail("resolve_secret", { reference_id: ref.id }, "REFERENCE_EXPIRED");
    expect(err).toMatch(/expired/i);
    expect(err).toContain("'expiring'");
  });

  it("refuses get_secret for a missing name, saying how to fix it", async () => {
    const err = await fail("get_secret", { name: "never-stored", purpose: "p" }, "NOT_FOUND");
    expect(err).toContain("No secret named 'never-stored'");
    expect(err).toMatch(/list_secrets|secret set/);
  });
});

describe("list_secrets, delete_secret and get_broker_stats", () => {
  it("counts secrets, live references and tokens with the seed's stats fields", async () => {
    const home2 = tempHome();
    const b = await connectBroker({ home: home2 });
    try {
      const stats = async () => {
        const r = (await b.client.callTool({ name: "get_broker_stats", arguments: {} })) as ToolResult;
        const parsed = body(r);
        expect(r.structuredContent).toEqual(parsed);
        expect(Object.keys(parsed.stats).sort()).toEqual(["activeReferences", "activeTokens", "storedSecrets"]);
        return parsed.stats;
      };
      const tool = async (name: string, args: Record<string, unknown>) => body(await b.client.callTool({ name, arguments: args }));
      expect(await stats()).toEqual({ activeTokens: 0, activeReferences: 0, storedSecrets: 0 });
      await tool("store_secret", { name: "a", value: canary() });
      await tool("store_secret", { name: "b", value: canary() });
      const ref = (await tool("get_secret", { name: "a", purpose: "p" })).reference.id;
      const tok = (await tool("mint_token", { provider: "github", scopes: ["repo"] })).token.tokenId;
      expect(await stats()).toEqual({ activeTokens: 1, activeReferences: 1, storedSecrets: 2 });
      await tool("resolve_secret", { reference_id: ref });
      await tool("revoke_token", { token_id: tok });
      await tool("delete_secret", { name: "b" });
      expect(await stats()).toEqual({ activeTokens: 0, activeReferences: 0, storedSecrets: 1 });
    } finally {
      await b.close();
    }
  });

  it("lists names and tags, never values", async () => {
    const value = canary();
    await ok("store_secret", { name: "listed", value, tags: { env: "ci", team: "infra" } });
    const listed = await ok("list_secrets");
    const entry = listed.secrets.find((e: { name: string }) => e.name === "listed");
    expect(entry).toMatchObject({ name: "listed", tags: { env: "ci", team: "infra" } });
    expect(typeof entry.createdAt).toBe("number");
    expect(entry.value).toBeUndefined();
    expect(JSON.stringify(listed)).not.toContain(value);
    expect(JSON.stringify(listed)).not.toContain("mcb-internal:");
  });

  it("deletes a secret, after which get_secret and a second delete fail", async () => {
    await ok("store_secret", { name: "doomed", value: canary() });
    const ref = (await ok("get_secret", { name: "doomed", purpose: "p" })).reference.id;
    expect((await ok("delete_secret", { name: "doomed" })).message).toContain("doomed");
    await fail("resolve_secret", { reference_id: ref }, "REFERENCE_NOT_FOUND");
    expect(await fail("get_secret", { name: "doomed", purpose: "p" }, "NOT_FOUND")).toContain("No secret named 'doomed'");
    expect(await fail("delete_secret", { name: "doomed" }, "NOT_FOUND")).toContain("No secret named 'doomed'");
  });
});

describe("minted tokens", () => {
  it("mints with the seed's fields, verifies, revokes, and then fails verification", async () => {
    const before = Date.now();
    const minted = await ok("mint_token", { provider: "github", scopes: ["repo", "read:org"], resource: "https://api.github.com", ttl_seconds: 900 });
    expect(Object.keys(minted).sort()).toEqual(["message", "success", "token"]);
    const t = minted.token;
    expect(Object.keys(t).sort()).toEqual(["expiresAt", "expiresIn", "provider", "resource", "scopes", "token", "tokenId"]);
    expect(t).toMatchObject({ provider: "github", scopes: ["repo", "read:org"], resource: "https://api.github.com", expiresIn: 900 });
    // Epoch ms; the JWT's exp has whole seconds, so allow the truncation.
    expect(t.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 900_000);
    expect(t.expiresAt).toBeLessThanOrEqual(Date.now() + 900_000);
    expect(t.token.split(".")).toHaveLength(3);

    const v = await ok("verify_token", { token: t.token });
    expect(v.valid).toBe(true);
    expect(v.claims).toMatchObject({ jti: t.tokenId, provider: "github", scopes: ["repo", "read:org"], scope: "repo read:org", aud: "https://api.github.com", resource: "https://api.github.com" });
    expect(v.claims.exp * 1000).toBe(t.expiresAt);

    expect((await ok("revoke_token", { token_id: t.tokenId })).message).toMatch(/revoked/i);
    const after = await ok("verify_token", { token: t.token });
    expect(after.valid).toBe(false);
    expect(after.reason).toMatch(/revoked/i);
  });

  it("refuses a TTL above the provider's maximum, naming it", async () => {
    const err = await fail("mint_token", { provider: "github", scopes: [], ttl_seconds: 8 * 3600 + 1 }, "TTL_OUT_OF_RANGE");
    expect(err).toContain("28800");
  });

  it("reports a tampered token as invalid, not as an error", async () => {
    const t = (await ok("mint_token", { provider: "okta", scopes: ["a"] })).token.token as string;
    const [h, p, s] = t.split(".");
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, "base64url").toString()), scopes: ["admin"] })).toString("base64url")}.${s}`;
    const v = await ok("verify_token", { token: forged });
    expect(v.valid).toBe(false);
    expect(v.reason).toMatch(/signature/i);
    expect((await ok("verify_token", { token: "not-a-jwt" })).valid).toBe(false);
  });
});

describe("state on disk", () => {
  it("persists secrets in MCB_HOME and audits with this client's name", () => {
    expect(readFileSync(join(home, "secrets.jsonl"), "utf8")).toContain("github-token");
    const lines = readOr(join(home, "audit.jsonl")).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.every((l) => l.client === "tools-e2e")).toBe(true);
  });
});

// Runs last in this file (bun runs a file's tests in order): no secret value of this suite (CANARY-<uuid>) reached an argv.
it("put no CANARY- value on any command line recorded in the argv ledger", () => {
  expect(readOr(ARGV_LEDGER)).not.toMatch(/CANARY-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
});
