import { describe, expect, it } from "bun:test";
import { MAX_VALUE_BYTES } from "../../src/core/broker.ts";
import { BrokerError } from "../../src/errors.ts";
import { memoryBroker } from "./fixtures.ts";

const cli = { client: "unit" };

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BrokerError);
    return (e as BrokerError).code;
  }
  throw new Error("expected a BrokerError");
}

describe("Broker references", () => {
  it("resolves a reference to the stored value exactly once", async () => {
    const { broker } = memoryBroker();
    await broker.storeSecret("gh", "v1", undefined, cli);
    const ref = await broker.issueReference("gh", "list issues", undefined, cli);
    expect(ref.expiresIn).toBe(3600);
    expect(await broker.resolveReference(ref.id, cli)).toBe("v1");
    expect(await code(broker.resolveReference(ref.id, cli))).toBe("REFERENCE_NOT_FOUND");
  });

  it("refuses an expired reference and consumes it", async () => {
    const { broker, clock } = memoryBroker();
    await broker.storeSecret("gh", "v1", undefined, cli);
    const ref = await broker.issueReference("gh", "p", 60, cli);
    clock.advance(60_000);
    expect(await code(broker.resolveReference(ref.id, cli))).toBe("REFERENCE_EXPIRED");
    expect(await code(broker.resolveReference(ref.id, cli))).toBe("REFERENCE_NOT_FOUND");
  });

  it("still resolves a reference one millisecond before expiry", async () => {
    const { broker, clock } = memoryBroker();
    await broker.storeSecret("gh", "v1", undefined, cli);
    const ref = await broker.issueReference("gh", "p", 60, cli);
    clock.advance(59_999);
    expect(await broker.resolveReference(ref.id, cli)).toBe("v1");
  });

  it("issues unguessable, distinct reference ids", async () => {
    const { broker } = memoryBroker();
    await broker.storeSecret("gh", "v1", undefined, cli);
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) ids.add((await broker.issueReference("gh", "p", 60, cli)).id);
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^ref_[A-Za-z0-9_-]{32}$/);
  });

  it("refuses references to unknown secrets and out-of-range TTLs", async () => {
    const { broker } = memoryBroker();
    await broker.storeSecret("gh", "v1", undefined, cli);
    expect(await code(broker.issueReference("nope", "p", 60, cli))).toBe("NOT_FOUND");
    for (const ttl of [0, -1, 1.5, 86_401, Number.NaN]) expect(await code(broker.issueReference("gh", "p", ttl, cli))).toBe("TTL_OUT_OF_RANGE");
  });

  it("stops resolving references to a deleted secret", async () => {
    const { broker } = memoryBroker();
    await broker.storeSecret("gh", "v1", undefined, cli);
    const ref = await broker.issueReference("gh", "p", 60, cli);
    await broker.deleteSecret("gh", cli);
    expect(await code(broker.resolveReference(ref.id, cli))).toBe("REFERENCE_NOT_FOUND");
  });

  it("counts only live references in stats", async () => {
    const { broker, clock } = memoryBroker();
    await broker.storeSecret("gh", "v1", undefined, cli);
    await broker.issueReference("gh", "p", 10, cli);
    await broker.issueReference("gh", "p", 100, cli);
    clock.advance(10_000);
    expect(await broker.stats()).toEqual({ activeTokens: 0, activeReferences: 1, storedSecrets: 1 });
  });
});

describe("Broker secrets", () => {
  it("keeps createdAt and replaces the value on overwrite", async () => {
    const { broker, clock, store } = memoryBroker();
    await broker.storeSecret("gh", "v1", { tags: { env: "dev" } }, cli);
    const first = await store.get("gh");
    clock.advance(1000);
    await broker.storeSecret("gh", "v2", undefined, cli);
    const second = await store.get("gh");
    expect(second?.value).toBe("v2");
    expect(second?.createdAt).toBe(first!.createdAt);
    expect(second?.updatedAt).toBe(first!.updatedAt + 1000);
  });

  it("lists names and tags without values, hiding internal names", async () => {
    const { broker } = memoryBroker();
    await broker.storeSecret("b", "vb", { tags: { k: "v" } }, cli);
    await broker.storeSecret("a", "va", undefined, cli);
    await (await broker.tokens()).jwks(); // creates the internal signing key
    const list = await broker.listSecrets();
    expect(list.map((e) => e.name)).toEqual(["a", "b"]);
    expect(JSON.stringify(list)).not.toContain("va");
    expect(list[1]?.tags).toEqual({ k: "v" });
    expect((await broker.stats()).storedSecrets).toBe(2);
  });

  it.each([
    ["", "INVALID_INPUT"],
    ["x".repeat(257), "INVALID_INPUT"],
    ["a\nb", "INVALID_INPUT"],
    ["nul\u0000", "INVALID_INPUT"],
    ["mcb-internal:jwt-es256-key", "INVALID_INPUT"],
  ])("refuses the name %j", async (name, expected) => {
    const { broker } = memoryBroker();
    expect(await code(broker.storeSecret(name, "v", undefined, cli))).toBe(expected);
    expect(await code(broker.issueReference(name, "p", 60, cli))).toBe(expected);
  });

  it("refuses values above the size limit", async () => {
    const { broker } = memoryBroker();
    expect(await code(broker.storeSecret("big", "x".repeat(MAX_VALUE_BYTES + 1), undefined, cli))).toBe("INVALID_INPUT");
    await broker.storeSecret("ok", "x".repeat(MAX_VALUE_BYTES), undefined, cli);
  });

  it("reports deleting a missing secret as NOT_FOUND", async () => {
    const { broker } = memoryBroker();
    expect(await code(broker.deleteSecret("nope", cli))).toBe("NOT_FOUND");
  });
});

describe("Broker audit log", () => {
  it("records each operation with client, name, purpose and reference id, never the value", async () => {
    const { broker, audit } = memoryBroker();
    await broker.storeSecret("gh", "SUPER-SECRET-VALUE", undefined, { client: "claude" });
    const ref = await broker.issueReference("gh", "list issues", 60, { client: "claude" });
    await broker.resolveReference(ref.id, { client: "claude" });
    await broker.resolveReference(ref.id, { client: "claude" }).catch(() => {});
    const t = await broker.mintToken({ provider: "github", scopes: ["repo"] }, { client: "claude" });
    await broker.revokeToken(t.tokenId, { client: "claude" });
    await broker.deleteSecret("gh", { client: "claude" });
    expect(audit.entries.map((e) => `${e.event}:${e.outcome}`)).toEqual(["store:ok", "get:ok", "resolve:ok", "resolve:error", "mint:ok", "revoke:ok", "delete:ok"]);
    expect(audit.entries[1]).toMatchObject({ name: "gh", purpose: "list issues", client: "claude", reference: ref.id });
    expect(audit.entries[2]).toMatchObject({ name: "gh", purpose: "list issues", reference: ref.id });
    expect(audit.entries[3]).toMatchObject({ error: "REFERENCE_NOT_FOUND" });
    expect(audit.entries[4]?.tokenId).toBe(t.tokenId);
    expect(JSON.stringify(audit.entries)).not.toContain("SUPER-SECRET-VALUE");
    expect(JSON.stringify(audit.entries)).not.toContain(t.token);
  });

  it("caps very long names in the audit log", async () => {
    const { broker, audit } = memoryBroker();
    await broker.issueReference("n".repeat(100_000), "p", 60, cli).catch(() => {});
    expect(audit.entries[0]!.name!.length).toBeLessThanOrEqual(256);
  });
});
