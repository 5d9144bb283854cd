// Bad-input sweep against the compiled binary (docs/security.md §Bad input): every malformed
// call gets a clear error — a tool error in the seed's JSON shape, or, where the SDK rejects
// the request itself, a JSON-RPC error — and the server keeps serving with nothing stored.
import { McpError, CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { ErrorCode } from "../../src/errors.ts";
import { ARGV_LEDGER, body, connectBroker, jsonLineReader, readOr, spawnBroker, tempHome, type Connected } from "./harness.ts";

const MB = "x".repeat(1024 * 1024);
/** An object nested `depth` levels deep: {a:{a:{…}}}. */
const nested = (depth: number): unknown => {
  let v: unknown = "leaf";
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};
const manyTags = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"]));
const manyScopes = Array.from({ length: 65 }, (_, i) => `s${i}`);

type Expect =
  /**
   * isError with `{ success: false, error, code }`; `tool` checks the message says what to fix,
   * `code` the stable code agents branch on (INVALID_INPUT unless given).
   */
  | { tool: RegExp; code?: ErrorCode }
  /** A JSON-RPC error from the SDK before any tool runs. */
  | { rpc: number };

interface Case {
  label: string;
  tool: unknown;
  args: unknown;
  expect: Expect;
}

const INVALID = /Input validation error/;
const SG = (args: unknown) => ({ tool: "get_secret", args });
const SS = (args: unknown) => ({ tool: "store_secret", args });
const RS = (args: unknown) => ({ tool: "resolve_secret", args });
const MT = (args: unknown) => ({ tool: "mint_token", args });
const RT = (args: unknown) => ({ tool: "revoke_token", args });
const VT = (args: unknown) => ({ tool: "verify_token", args });
const DS = (args: unknown) => ({ tool: "delete_secret", args });
const c = (label: string, call: { tool: unknown; args: unknown }, expect: Expect): Case => ({ label, ...call, expect });

const cases: Case[] = [
  // get_secret
  c("get_secret: no arguments", SG({}), { tool: INVALID }),
  c("get_secret: missing purpose", SG({ name: "a" }), { tool: /purpose/ }),
  c("get_secret: missing name", SG({ purpose: "p" }), { tool: /name/ }),
  c("get_secret: name is a number", SG({ name: 42, purpose: "p" }), { tool: /expected string.*name/ }),
  c("get_secret: name is null", SG({ name: null, purpose: "p" }), { tool: /name/ }),
  c("get_secret: name is an array", SG({ name: ["a"], purpose: "p" }), { tool: /name/ }),
  c("get_secret: name is a nested object", SG({ name: { name: "a" }, purpose: "p" }), { tool: /name/ }),
  c("get_secret: name 200 levels deep", SG({ name: nested(200), purpose: "p" }), { tool: /name/ }),
  c("get_secret: empty name", SG({ name: "", purpose: "p" }), { tool: /name/ }),
  c("get_secret: 1 MB name", SG({ name: MB, purpose: "p" }), { tool: /name/ }),
  c("get_secret: 1 MB purpose", SG({ name: "a", purpose: MB }), { tool: /purpose/ }),
  c("get_secret: empty purpose", SG({ name: "a", purpose: "" }), { tool: /purpose/ }),
  c("get_secret: name with a newline", SG({ name: "a\nb", purpose: "p" }), { tool: /control characters/ }),
  c("get_secret: name with NUL", SG({ name: "a\u0000b", purpose: "p" }), { tool: /control characters/ }),
  c("get_secret: name with ESC", SG({ name: "\u001b[31mred", purpose: "p" }), { tool: /control characters/ }),
  c("get_secret: reserved internal name", SG({ name: "mcb-internal:jwt-es256-key", purpose: "p" }), { tool: /reserved/ }),
  c("get_secret: ttl 0", SG({ name: "a", purpose: "p", ttl_seconds: 0 }), { tool: /ttl_seconds/ }),
  c("get_secret: ttl -1", SG({ name: "a", purpose: "p", ttl_seconds: -1 }), { tool: /ttl_seconds/ }),
  c("get_secret: ttl 1.5", SG({ name: "a", purpose: "p", ttl_seconds: 1.5 }), { tool: /ttl_seconds/ }),
  c("get_secret: ttl 0.000001", SG({ name: "a", purpose: "p", ttl_seconds: 1e-6 }), { tool: /ttl_seconds/ }),
  c("get_secret: ttl 86401", SG({ name: "a", purpose: "p", ttl_seconds: 86_401 }), { tool: /ttl_seconds/ }),
  c("get_secret: ttl 1e308", SG({ name: "a", purpose: "p", ttl_seconds: 1e308 }), { tool: /ttl_seconds/ }),
  c("get_secret: ttl 2^53+2", SG({ name: "a", purpose: "p", ttl_seconds: 2 ** 53 + 2 }), { tool: /ttl_seconds/ }),
  c("get_secret: ttl as a string", SG({ name: "a", purpose: "p", ttl_seconds: "3600" }), { tool: /ttl_seconds/ }),
  c("get_secret: ttl \"NaN\"", SG({ name: "a", purpose: "p", ttl_seconds: "NaN" }), { tool: /ttl_seconds/ }),
  c("get_secret: ttl NaN (JSON null)", SG({ name: "a", purpose: "p", ttl_seconds: Number.NaN }), { tool: /ttl_seconds/ }),
  c("get_secret: ttl true", SG({ name: "a", purpose: "p", ttl_seconds: true }), { tool: /ttl_seconds/ }),
  c("get_secret: ttl []", SG({ name: "a", purpose: "p", ttl_seconds: [] }), { tool: /ttl_seconds/ }),
  c("get_secret: unknown name", SG({ name: "never-stored", purpose: "p" }), { tool: /No secret named 'never-stored'/, code: "NOT_FOUND" }),
  // resolve_secret
  c("resolve_secret: no arguments", RS({}), { tool: /reference_id/ }),
  c("resolve_secret: reference_id is a number", RS({ reference_id: 7 }), { tool: /reference_id/ }),
  c("resolve_secret: reference_id is an object", RS({ reference_id: { id: "ref_x" } }), { tool: /reference_id/ }),
  c("resolve_secret: empty reference_id", RS({ reference_id: "" }), { tool: /reference_id/ }),
  c("resolve_secret: 1 MB reference_id", RS({ reference_id: MB }), { tool: /reference_id/ }),
  c("resolve_secret: unknown reference", RS({ reference_id: "ref_nope" }), { tool: /Unknown secret reference/, code: "REFERENCE_NOT_FOUND" }),
  // store_secret
  c("store_secret: no arguments", SS({}), { tool: INVALID }),
  c("store_secret: missing value", SS({ name: "a" }), { tool: /value/ }),
  c("store_secret: missing name", SS({ value: "v" }), { tool: /name/ }),
  c("store_secret: value is a number", SS({ name: "a", value: 123 }), { tool: /value/ }),
  c("store_secret: value is an object", SS({ name: "a", value: { v: "x" } }), { tool: /value/ }),
  c("store_secret: empty value", SS({ name: "a", value: "" }), { tool: /value/ }),
  c("store_secret: 1 MB value", SS({ name: "a", value: MB }), { tool: /value/ }),
  c("store_secret: 1 MB name", SS({ name: MB, value: "v" }), { tool: /name/ }),
  c("store_secret: 257-char name", SS({ name: "n".repeat(257), value: "v" }), { tool: /name/ }),
  c("store_secret: empty name", SS({ name: "", value: "v" }), { tool: /name/ }),
  c("store_secret: name with BEL", SS({ name: "\u0007bell", value: "v" }), { tool: /control characters/ }),
  c("store_secret: name with a tab", SS({ name: "a\tb", value: "v" }), { tool: /control characters/ }),
  c("store_secret: name with DEL", SS({ name: "a\u007f", value: "v" }), { tool: /control characters/ }),
  c("store_secret: reserved prefix", SS({ name: "mcb-internal:x", value: "v" }), { tool: /reserved/ }),
  c("store_secret: overwrite the signing key", SS({ name: "mcb-internal:jwt-es256-key", value: "{}" }), { tool: /reserved/ }),
  c("store_secret: tags is an array", SS({ name: "a", value: "v", tags: ["env"] }), { tool: /tags/ }),
  c("store_secret: tags is a string", SS({ name: "a", value: "v", tags: "env=prod" }), { tool: /tags/ }),
  c("store_secret: tag value is a number", SS({ name: "a", value: "v", tags: { env: 1 } }), { tool: /tags/ }),
  c("store_secret: tag value is null", SS({ name: "a", value: "v", tags: { env: null } }), { tool: /tags/ }),
  c("store_secret: tag value is an object", SS({ name: "a", value: "v", tags: { env: { a: "b" } } }), { tool: /tags/ }),
  c("store_secret: tag value is an array", SS({ name: "a", value: "v", tags: { env: ["a"] } }), { tool: /tags/ }),
  c("store_secret: empty tag key", SS({ name: "a", value: "v", tags: { "": "v" } }), { tool: /tags/ }),
  c("store_secret: 1 MB tag key", SS({ name: "a", value: "v", tags: { [MB]: "v" } }), { tool: /tags/ }),
  c("store_secret: 1 MB tag value", SS({ name: "a", value: "v", tags: { env: MB } }), { tool: /tags/ }),
  c("store_secret: 33 tags", SS({ name: "a", value: "v", tags: manyTags }), { tool: /at most 32 tags/ }),
  // mint_token
  c("mint_token: no arguments", MT({}), { tool: INVALID }),
  c("mint_token: unknown provider", MT({ provider: "google", scopes: [] }), { tool: /provider/ }),
  c("mint_token: provider in another case", MT({ provider: "GitHub", scopes: [] }), { tool: /provider/ }),
  c("mint_token: provider is a number", MT({ provider: 1, scopes: [] }), { tool: /provider/ }),
  c("mint_token: 1 MB provider", MT({ provider: MB, scopes: [] }), { tool: /provider/ }),
  c("mint_token: missing scopes", MT({ provider: "github" }), { tool: /scopes/ }),
  c("mint_token: scopes is a string", MT({ provider: "github", scopes: "repo" }), { tool: /scopes/ }),
  c("mint_token: scopes is an object", MT({ provider: "github", scopes: { 0: "repo" } }), { tool: /scopes/ }),
  c("mint_token: scopes of numbers", MT({ provider: "github", scopes: [1, 2] }), { tool: /scopes/ }),
  c("mint_token: nested scopes", MT({ provider: "github", scopes: [["repo"]] }), { tool: /scopes/ }),
  c("mint_token: empty scope", MT({ provider: "github", scopes: [""] }), { tool: /scopes/ }),
  c("mint_token: 65 scopes", MT({ provider: "github", scopes: manyScopes }), { tool: /scopes/ }),
  c("mint_token: 1 MB scope", MT({ provider: "github", scopes: [MB] }), { tool: /scopes/ }),
  c("mint_token: 1 MB resource", MT({ provider: "github", scopes: [], resource: MB }), { tool: /resource/ }),
  c("mint_token: empty resource", MT({ provider: "github", scopes: [], resource: "" }), { tool: /resource/ }),
  c("mint_token: ttl 0", MT({ provider: "github", scopes: [], ttl_seconds: 0 }), { tool: /ttl_seconds/ }),
  c("mint_token: ttl -5", MT({ provider: "aws", scopes: [], ttl_seconds: -5 }), { tool: /ttl_seconds/ }),
  c("mint_token: ttl 1.5", MT({ provider: "gcp", scopes: [], ttl_seconds: 1.5 }), { tool: /ttl_seconds/ }),
  c("mint_token: ttl 1e12", MT({ provider: "oauth2", scopes: [], ttl_seconds: 1e12 }), { tool: /maximum of 86400/, code: "TTL_OUT_OF_RANGE" }),
  c("mint_token: ttl 1e300", MT({ provider: "azure", scopes: [], ttl_seconds: 1e300 }), { tool: /ttl_seconds/ }),
  c("mint_token: ttl as a string", MT({ provider: "okta", scopes: [], ttl_seconds: "60" }), { tool: /ttl_seconds/ }),
  c("mint_token: ttl NaN (JSON null)", MT({ provider: "custom", scopes: [], ttl_seconds: Number.NaN }), { tool: /ttl_seconds/ }),
  c("mint_token: github ttl above 8 h", MT({ provider: "github", scopes: [], ttl_seconds: 28_801 }), { tool: /maximum of 28800/, code: "TTL_OUT_OF_RANGE" }),
  // revoke_token, verify_token, delete_secret
  c("revoke_token: no arguments", RT({}), { tool: /token_id/ }),
  c("revoke_token: empty token_id", RT({ token_id: "" }), { tool: /token_id/ }),
  c("revoke_token: token_id is a number", RT({ token_id: 5 }), { tool: /token_id/ }),
  c("revoke_token: 1 MB token_id", RT({ token_id: MB }), { tool: /token_id/ }),
  c("revoke_token: not a token id", RT({ token_id: "not-a-token" }), { tool: /Unknown token id/, code: "NOT_FOUND" }),
  c("revoke_token: malformed JWT", RT({ token_id: "a.b.c" }), { tool: /neither a token id nor a readable JWT/, code: "TOKEN_INVALID" }),
  c("verify_token: no arguments", VT({}), { tool: /token/ }),
  c("verify_token: token is a number", VT({ token: 1 }), { tool: /token/ }),
  c("verify_token: 1 MB token", VT({ token: MB }), { tool: /token/ }),
  c("delete_secret: no arguments", DS({}), { tool: /name/ }),
  c("delete_secret: empty name", DS({ name: "" }), { tool: /name/ }),
  c("delete_secret: 1 MB name", DS({ name: MB }), { tool: /name/ }),
  c("delete_secret: unknown name", DS({ name: "never-stored" }), { tool: /No secret named/, code: "NOT_FOUND" }),
  c("delete_secret: the signing key", DS({ name: "mcb-internal:jwt-es256-key" }), { tool: /reserved/ }),
  // unknown tools: the SDK's wording, in the seed's JSON error shape with UNKNOWN_TOOL (server.ts)
  c("unknown tool", { tool: "no_such_tool", args: {} }, { tool: /Tool no_such_tool not found/, code: "UNKNOWN_TOOL" }),
  c("tool name in another case", { tool: "GET_SECRET", args: {} }, { tool: /not found/, code: "UNKNOWN_TOOL" }),
  c("empty tool name", { tool: "", args: {} }, { tool: /not found/, code: "UNKNOWN_TOOL" }),
  c("1 MB tool name", { tool: MB, args: {} }, { tool: /not found/, code: "UNKNOWN_TOOL" }),
  // Object.prototype names are not tools (the SDK's McpServer looked tools up in a plain object).
  c("tool named __proto__", { tool: "__proto__", args: {} }, { tool: /Tool __proto__ not found/, code: "UNKNOWN_TOOL" }),
  c("tool named constructor", { tool: "constructor", args: {} }, { tool: /Tool constructor not found/, code: "UNKNOWN_TOOL" }),
  // Malformed tools/call params are not a tool's error but the request's: a JSON-RPC
  // error, -32602 Invalid params (JSON-RPC 2.0 §5.1).
  c("arguments: null", { tool: "store_secret", args: null }, { rpc: -32602 }),
  c("arguments: an array", { tool: "store_secret", args: [{ name: "a", value: "v" }] }, { rpc: -32602 }),
  c("arguments: a string", { tool: "store_secret", args: '{"name":"a","value":"v"}' }, { rpc: -32602 }),
  c("arguments: a number", { tool: "get_broker_stats", args: 42 }, { rpc: -32602 }),
  c("tool name is a number", { tool: 5, args: {} }, { rpc: -32602 }),
  c("tool name is null", { tool: null, args: {} }, { rpc: -32602 }),
];

let home: string;
let broker: Connected;

beforeAll(async () => {
  home = tempHome();
  broker = await connectBroker({ home, clientName: "bad-input-e2e" });
});
afterAll(async () => {
  await broker?.close();
});

/** Sends tools/call with raw params (no client-side checks); returns the result or the JSON-RPC error. */
async function rawCall(tool: unknown, args: unknown): Promise<{ result?: Record<string, any>; rpcError?: McpError }> {
  const params: Record<string, unknown> = { arguments: args };
  if (tool !== undefined) params.name = tool;
  try {
    return { result: await broker.client.request({ method: "tools/call", params } as never, CallToolResultSchema) };
  } catch (e) {
    if (e instanceof McpError) return { rpcError: e };
    throw e;
  }
}

describe("bad-input sweep", () => {
  it("has at least 50 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
    expect(new Set(cases.map((k) => k.label)).size).toBe(cases.length);
  });

  for (const k of cases) {
    it(`${k.label} → ${"rpc" in k.expect ? `JSON-RPC error ${k.expect.rpc}` : "tool error"}`, async () => {
      const { result, rpcError } = await rawCall(k.tool, k.args);
      if ("rpc" in k.expect) {
        expect(result).toBeUndefined();
        expect(rpcError?.code).toBe(k.expect.rpc);
        expect(rpcError!.message.length).toBeGreaterThan(0);
        return;
      }
      expect(rpcError).toBeUndefined();
      expect(result!.isError).toBe(true);
      expect(result!.structuredContent).toBeUndefined();
      expect(result!.content).toHaveLength(1);
      const b = body(result);
      expect(Object.keys(b).sort()).toEqual(["code", "error", "success"]);
      expect(b.success).toBe(false);
      expect(typeof b.error).toBe("string");
      expect(b.error).toMatch(k.expect.tool);
      expect(b.code).toBe(k.expect.code ?? "INVALID_INPUT");
      // A 1 MB input is never echoed back whole.
      expect(b.error.length).toBeLessThan(4096);
    });
  }

  it("stored nothing and kept the broker's signing key intact", async () => {
    const listed = body(await broker.client.callTool({ name: "list_secrets", arguments: {} }));
    expect(listed.secrets).toEqual([]);
    const stats = body(await broker.client.callTool({ name: "get_broker_stats", arguments: {} }));
    expect(stats.stats).toEqual({ activeTokens: 0, activeReferences: 0, storedSecrets: 0 });
  });

  it("still serves store → get → resolve, mint and stats, and the process is alive", async () => {
    const value = `CANARY-${randomUUID()}`;
    const call = (name: string, args: Record<string, unknown>) => broker.client.callTool({ name, arguments: args });
    expect(body(await call("store_secret", { name: "after-sweep", value })).success).toBe(true);
    const ref = body(await call("get_secret", { name: "after-sweep", purpose: "check the server survived" })).reference.id;
    expect(body(await call("resolve_secret", { reference_id: ref }))).toEqual({ success: true, value });
    const minted = body(await call("mint_token", { provider: "github", scopes: ["repo"] }));
    expect(body(await call("verify_token", { token: minted.token.token })).valid).toBe(true);
    expect(body(await call("get_broker_stats", {})).stats).toEqual({ activeTokens: 1, activeReferences: 0, storedSecrets: 1 });

    const pid = broker.pid();
    expect(pid).toBeGreaterThan(0);
    expect(() => process.kill(pid!, 0)).not.toThrow();
    expect(readOr(`/proc/${pid}/stat`).split(" ")[2]).not.toBe("Z");
    expect(broker.stderr()).not.toContain(value);
  });

  it("kept 1 MB inputs out of the audit log", () => {
    const audit = readOr(join(home, "audit.jsonl"));
    expect(audit.length).toBeGreaterThan(0);
    expect(audit).not.toContain("x".repeat(1024));
  });
});

describe("inputs that are tolerated rather than refused", () => {
  it("ignores unknown extra arguments (zod strips them)", async () => {
    const r = await broker.client.callTool({ name: "get_broker_stats", arguments: { extra: nested(50), more: [1, 2, 3] } });
    expect(r.isError ?? false).toBe(false);
    const b = body(await broker.client.callTool({ name: "store_secret", arguments: { name: "extra-args", value: "v", unknown: { a: 1 } } }));
    expect(b.success).toBe(true);
  });

  it("drops a `__proto__` tag without polluting any prototype", async () => {
    const args = JSON.parse('{"name":"proto-tags","value":"v","tags":{"__proto__":{"polluted":"yes"},"env":"ci"}}');
    expect(body(await broker.client.callTool({ name: "store_secret", arguments: args })).success).toBe(true);
    const listed = body(await broker.client.callTool({ name: "list_secrets", arguments: {} }));
    const entry = listed.secrets.find((e: { name: string }) => e.name === "proto-tags");
    expect(entry.tags).toEqual({ env: "ci" });
    expect(JSON.stringify(listed)).not.toContain("polluted");
  });
});

/** JSON-RPC over the broker's stdin/stdout by hand, for inputs the SDK Client cannot produce. */
describe("raw JSON-RPC lines", () => {
  let proc: ReturnType<typeof spawnBroker>;
  let lines: ReturnType<typeof jsonLineReader>;
  const send = (line: string) => {
    proc.stdin!.write(`${line}\n`);
    proc.stdin!.flush();
  };
  const readMessage = async (): Promise<Record<string, any>> => {
    const m = await lines.next();
    if (m === null) throw new Error("broker closed stdout");
    return m;
  };
  let nextId = 1000;
  /** Sends a ping and returns every message that arrived before its answer. */
  const drainUntilPing = async () => {
    const id = nextId++;
    send(JSON.stringify({ jsonrpc: "2.0", id, method: "ping" }));
    const before: Record<string, any>[] = [];
    for (;;) {
      const m = await readMessage();
      if (m.id === id) return before;
      before.push(m);
    }
  };

  beforeAll(async () => {
    proc = spawnBroker([], { home: tempHome() });
    lines = jsonLineReader(proc.stdout);
    send(JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw-lines", version: "1" } } }));
    expect((await readMessage()).result.serverInfo.name).toBe("mcp-credentials-broker");
    send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }));
  });
  afterAll(async () => {
    proc.stdin!.end();
    await proc.exited;
  });

  const toolErrors: [string, string, RegExp][] = [
    ["ttl_seconds 1e400 (Infinity)", '{"name":"a","purpose":"p","ttl_seconds":1e400}', /Infinity at ttl_seconds/],
    ["ttl_seconds -1e400 (-Infinity)", '{"name":"a","purpose":"p","ttl_seconds":-1e400}', /Infinity at ttl_seconds/],
    ["ttl_seconds -0", '{"name":"a","purpose":"p","ttl_seconds":-0}', /ttl_seconds/],
    ["ttl_seconds 1e-400 (underflows to 0)", '{"name":"a","purpose":"p","ttl_seconds":1e-400}', /ttl_seconds/],
  ];
  for (const [label, args, match] of toolErrors) {
    it(`get_secret with ${label} → tool error`, async () => {
      const id = nextId++;
      send(`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"get_secret","arguments":${args}}}`);
      const m = await readMessage();
      expect(m.id).toBe(id);
      expect(m.result.isError).toBe(true);
      const b = JSON.parse(m.result.content[0].text);
      expect(b.success).toBe(false);
      expect(b.error).toMatch(match);
      expect(b.code).toBe("INVALID_INPUT");
    });
  }

  it("answers an unknown method with -32601", async () => {
    send(JSON.stringify({ jsonrpc: "2.0", id: 7, method: "secrets/dump", params: {} }));
    const m = await readMessage();
    expect(m).toMatchObject({ id: 7, error: { code: -32601 } });
  });

  it("answers tools/call without params with a JSON-RPC error", async () => {
    send(JSON.stringify({ jsonrpc: "2.0", id: 8, method: "tools/call" }));
    const m = await readMessage();
    expect(m).toMatchObject({ id: 8, error: { code: -32602 } });
  });

  // Lines that are not valid JSON-RPC messages are answered (JSON-RPC 2.0 §5.1): -32700 when
  // not JSON, -32600 otherwise, with the request's id when it can be read, else null. The SDK's
  // own stdio transport dropped them, leaving the client waiting (src/mcp/stdio-transport.ts).
  const unreadable: [string, string, number, number | null][] = [
    ["a line that is not JSON", "{not json", -32700, null],
    ["binary garbage", "\u0000\u0001\u0002garbage\u00ff", -32700, null],
    ["a JSON string", '"tools/list"', -32600, null],
    ["JSON null", "null", -32600, null],
    ["a batch array", '[{"jsonrpc":"2.0","id":9,"method":"tools/list"}]', -32600, null],
    ["jsonrpc 1.0", '{"jsonrpc":"1.0","id":10,"method":"tools/list"}', -32600, 10],
    ["params as a string", '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":"get_secret"}', -32600, 11],
    ["a 1 MB line of garbage", `{"jsonrpc":"2.0","id":12,${MB}`, -32700, null],
  ];
  for (const [label, line, code, id] of unreadable) {
    it(`answers ${label} with ${code} (id ${id}) and keeps serving`, async () => {
      send(line);
      const m = await readMessage();
      expect(m).toMatchObject({ jsonrpc: "2.0", id, error: { code } });
      expect(JSON.stringify(m).length).toBeLessThan(400); // never echoes the input back
      expect(await drainUntilPing()).toEqual([]); // one answer, and the server still serves
    });
  }

  it("still answers tools/call after all of that", async () => {
    send(JSON.stringify({ jsonrpc: "2.0", id: 99, method: "tools/call", params: { name: "get_broker_stats", arguments: {} } }));
    const m = await readMessage();
    expect(m.id).toBe(99);
    expect(m.result.structuredContent).toEqual({ success: true, stats: { activeTokens: 0, activeReferences: 0, storedSecrets: 0 } });
    expect(proc.exitCode).toBeNull();
  });
});

// Runs last in this file: no secret value of this suite (CANARY-<uuid>) reached a command line.
it("put no CANARY- value on any command line recorded in the argv ledger", () => {
  expect(readOr(ARGV_LEDGER)).not.toMatch(/CANARY-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
});
