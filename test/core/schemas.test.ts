// The input rules written once (src/core/schemas.ts): the Broker enforces them for every
// caller — a CLI command as much as an MCP tool — and the tools' schemas are the same objects.
import { describe, expect, it } from "bun:test";
import {
  checkMintRequest,
  checkPurpose,
  checkSecretName,
  checkTags,
  MAX_TAGS,
  normalizeHosts,
  parseApprovalVia,
  parsePolicy,
  parseTags,
  PurposeSchema,
  ScopesSchema,
  SecretNameSchema,
  TagsSchema,
} from "../../src/core/schemas.ts";
import * as mcp from "../../src/mcp/schemas.ts";
import { BrokerError } from "../../src/errors.ts";
import { memoryBroker } from "./fixtures.ts";

const user = { client: "cli", user: true };
const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BrokerError);
    expect((e as BrokerError).code).toBe("INVALID_INPUT");
    return (e as BrokerError).message;
  }
  throw new Error("expected INVALID_INPUT");
}

async function refusedAsync(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect((e as BrokerError).code).toBe("INVALID_INPUT");
    return (e as BrokerError).message;
  }
  throw new Error("expected INVALID_INPUT");
}

describe("core schemas", () => {
  it("the MCP tools' input fields are the core's schemas, not copies", () => {
    expect(mcp.secretName).toBe(SecretNameSchema);
    expect(mcp.purpose).toBe(PurposeSchema);
    expect(mcp.tags).toBe(TagsSchema);
    expect(mcp.scopes).toBe(ScopesSchema);
  });

  it("tags: at most 32, keys 1-128 characters, values at most 1024 — the same limits in zod and in the check", () => {
    expect(TagsSchema.safeParse(many(MAX_TAGS)).success).toBe(true);
    expect(TagsSchema.safeParse(many(MAX_TAGS + 1)).error?.issues[0]?.message).toBe("at most 32 tags");
    checkTags(many(MAX_TAGS));
    expect(refusal(() => checkTags(many(MAX_TAGS + 1)))).toContain("at most 32 tags");
    expect(refusal(() => checkTags({ "": "v" }))).toContain("1 to 128");
    expect(refusal(() => checkTags({ ["k".repeat(129)]: "v" }))).toContain("1 to 128");
    expect(refusal(() => checkTags({ env: "v".repeat(1025) }))).toContain("at most 1024");
  });

  it("the Broker refuses tags over the limits from any caller, the CLI included (they were checked only in the MCP schema)", async () => {
    const { broker, store } = memoryBroker();
    expect(await refusedAsync(broker.storeSecret("a", "v", { tags: many(33) }, user))).toContain("at most 32 tags");
    expect(await refusedAsync(broker.storeSecret("a", "v", { tags: { env: "x".repeat(2000) } }, user))).toContain("at most 1024");
    expect(await store.list()).toEqual([]);
  });

  it("the Broker refuses a purpose over 512 characters and an unknown policy", async () => {
    const { broker } = memoryBroker();
    await broker.storeSecret("a", "v", undefined, user);
    expect(await refusedAsync(broker.issueReference("a", "p".repeat(513), undefined, user))).toContain("1 to 512");
    expect(await refusedAsync(broker.issueReference("a", "", undefined, user))).toContain("1 to 512");
    expect(await refusedAsync(broker.setPolicy("a", "nobody" as never, user))).toContain("Unknown policy 'nobody'");
    expect(await refusedAsync(broker.storeSecret("b", "v", { policy: "x" as never }, user))).toContain("Unknown policy");
  });

  it("the Broker refuses a mint request over the limits", async () => {
    const { broker } = memoryBroker({ jwtSecret: "s".repeat(32) });
    expect(await refusedAsync(broker.mintToken({ provider: "aws", scopes: Array(65).fill("s") }, user))).toContain("At most 64 scopes");
    expect(await refusedAsync(broker.mintToken({ provider: "aws", scopes: [""] }, user))).toContain("1 to 256");
    expect(await refusedAsync(broker.mintToken({ provider: "nope" as never, scopes: [] }, user))).toContain("Unknown provider");
    expect(refusal(() => checkMintRequest({ provider: "aws", scopes: [], resource: "r".repeat(2049) }))).toContain("1 to 2048");
  });

  it("CLI flag parsing: parseTags (k=v, same limits), parsePolicy, normalizeHosts", () => {
    expect(parseTags([])).toBeUndefined();
    expect(parseTags(["env=prod", "team=a=b"])).toEqual({ env: "prod", team: "a=b" });
    expect(refusal(() => parseTags(["=v"]))).toContain("is not key=value");
    expect(refusal(() => parseTags(["novalue"]))).toContain("is not key=value");
    expect(refusal(() => parseTags(Array.from({ length: 33 }, (_, i) => `k${i}=v`)))).toContain("at most 32 tags");
    expect(parsePolicy("confirm")).toBe("confirm");
    expect(refusal(() => parsePolicy("maybe"))).toBe("Unknown policy 'maybe'. Use one of: allow, confirm, deny.");
    expect(normalizeHosts(["API.github.com", "https://api.github.com/x", "*.example.com:8443"])).toEqual(["api.github.com", "*.example.com:8443"]);
    expect(refusal(() => normalizeHosts(["not a host"]))).toContain("is not a host");
  });

  it("the Broker refuses approval settings outside the rules, whoever calls (an unknown via, a remembered time out of range)", async () => {
    const { broker } = memoryBroker();
    await broker.storeSecret("gh", "v", undefined, user);
    expect(await refusedAsync(broker.setPolicy("gh", "confirm", user, { via: "email" as never }))).toBe("Unknown --via 'email'. Use one of: any, os, client.");
    expect(await refusedAsync(broker.setPolicy("gh", "confirm", user, { via: "os", rememberSeconds: 0 }))).toContain("1 to 28800 seconds");
    expect(await refusedAsync(broker.setPolicy("gh", "confirm", user, { via: "os", rememberSeconds: 8 * 3600 + 1 }))).toContain("1 to 28800 seconds");
    expect(await refusedAsync(broker.setPolicy("gh", "confirm", user, { via: "os", rememberSeconds: 1.5 }))).toContain("1 to 28800 seconds");
    await broker.setPolicy("gh", "confirm", user, { via: "os", rememberSeconds: 600 });
    expect((await broker.listSecrets()).find((e) => e.name === "gh")?.policy).toBe("confirm");
  });

  it("CLI flag parsing: parseApprovalVia (--via)", () => {
    for (const v of ["any", "os", "client"]) expect(parseApprovalVia(v)).toBe(v as never);
    expect(refusal(() => parseApprovalVia("OS"))).toBe("Unknown --via 'OS'. Use one of: any, os, client.");
  });

  it("names and purposes", () => {
    checkSecretName("a".repeat(256));
    expect(refusal(() => checkSecretName("a".repeat(257)))).toContain("1 to 256");
    expect(refusal(() => checkSecretName("a\nb"))).toContain("control characters");
    expect(refusal(() => checkSecretName("mcb-internal:x"))).toContain("reserved");
    checkPurpose("p".repeat(512));
    expect(refusal(() => checkPurpose("p".repeat(513)))).toContain("1 to 512");
  });
});
