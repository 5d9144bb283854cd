import { describe, expect, it } from "bun:test";
import { createHash } from "node:crypto";
import { MemoryAuditLog, type AuditEntry, type ConsentAnswer } from "../../src/core/audit.ts";
import { Broker } from "../../src/core/broker.ts";
import { MAX_VALUE_BYTES } from "../../src/core/schemas.ts";
import { BrokerError } from "../../src/errors.ts";
import type { SecretRecord, Store } from "../../src/core/store.ts";
import { MemoryLedger, scriptedDriver } from "../support/approval-drivers.ts";
import { code, memoryBroker } from "./fixtures.ts";

const cli = { client: "unit" };
/** The CLI's context: the user, who may change protected secrets. */
const user = { client: "cli", user: true };

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
    await broker.jwks(); // creates the internal signing key
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
    // A change is preceded by its intent line (written before the change is made).
    expect(audit.entries.map((e) => `${e.event}:${e.outcome}`)).toEqual(["store:intent", "store:ok", "get:ok", "resolve:ok", "resolve:error", "mint:ok", "revoke:intent", "revoke:ok", "delete:intent", "delete:ok"]);
    expect(audit.entries[2]).toMatchObject({ name: "gh", purpose: "list issues", client: "claude", reference: ref.id });
    expect(audit.entries[3]).toMatchObject({ name: "gh", purpose: "list issues", reference: ref.id });
    expect(audit.entries[4]).toMatchObject({ error: "REFERENCE_NOT_FOUND" });
    expect(audit.entries[5]?.tokenId).toBe(t.tokenId);
    expect(JSON.stringify(audit.entries)).not.toContain("SUPER-SECRET-VALUE");
    expect(JSON.stringify(audit.entries)).not.toContain(t.token);
  });

  it("caps very long names in the audit log", async () => {
    const { broker, audit } = memoryBroker();
    await broker.issueReference("n".repeat(100_000), "p", 60, cli).catch(() => {});
    expect(audit.entries[0]!.name!.length).toBeLessThanOrEqual(256);
  });
});

describe("Broker policies", () => {
  const ask = (answer: ConsentAnswer) => {
    const confirm = scriptedDriver({ answers: [answer] });
    return { asked: confirm.asked, confirm };
  };

  it("returns a 'confirm' secret only when the user accepts, and records every answer", async () => {
    const { broker, audit } = memoryBroker();
    await broker.storeSecret("gh", "v1", { policy: "confirm" }, cli);
    for (const [answer, want] of [["accept", null], ["decline", "CONSENT_DECLINED"], ["cancel", "CONSENT_DECLINED"], ["unsupported", "CONSENT_UNAVAILABLE"]] as const) {
      const ref = await broker.issueReference("gh", "open a pull request", 60, { client: "claude" });
      const port = ask(answer);
      const p = broker.resolveReference(ref.id, { client: "claude", confirm: port.confirm });
      if (want === null) expect(await p).toBe("v1");
      else expect(await code(p)).toBe(want);
      expect(port.asked).toEqual([`The MCP client "claude" wants the value of the secret 'gh'. The agent says it needs it for: "open a pull request". Allow this once?`]);
      const line = audit.entries.at(-1)!;
      expect(line).toMatchObject({ event: "resolve", name: "gh", purpose: "open a pull request", client: "claude", consent: answer, outcome: want ? "error" : "ok" });
      if (answer !== "unsupported") expect(line.approver).toBe("client");
      if (want) expect(line.error).toBe(want);
    }
  });

  it("refuses a 'confirm' secret when the caller has no way to ask (no consent port)", async () => {
    const { broker, audit } = memoryBroker();
    await broker.storeSecret("gh", "v1", { policy: "confirm" }, cli);
    const ref = await broker.issueReference("gh", "p", 60, cli);
    expect(await code(broker.resolveReference(ref.id, cli))).toBe("CONSENT_UNAVAILABLE");
    expect(audit.entries.at(-1)).toMatchObject({ consent: "unsupported", error: "CONSENT_UNAVAILABLE" });
    expect(await code(broker.readSecret("gh", cli))).toBe("CONSENT_UNAVAILABLE");
  });

  it("refuses a 'deny' secret to get_secret, resolve_secret (policy changed after get) and `secret get`, but injects it for run", async () => {
    const { broker, audit } = memoryBroker();
    await broker.storeSecret("gh", "v1", undefined, cli);
    const ref = await broker.issueReference("gh", "p", 60, cli);
    await broker.setPolicy("gh", "deny", cli);
    expect(await code(broker.resolveReference(ref.id, { client: "claude", confirm: ask("accept").confirm }))).toBe("POLICY_DENIED");
    expect(await code(broker.issueReference("gh", "p", 60, cli))).toBe("POLICY_DENIED");
    expect(await code(broker.readSecret("gh", cli))).toBe("POLICY_DENIED");
    expect(await broker.injectSecret("gh", "GITHUB_TOKEN", { client: "run", purpose: "github-mcp-server" })).toBe("v1");
    expect(audit.entries.slice(-5).map((e) => [e.event, e.outcome, e.error ?? e.policy ?? e.env])).toEqual([
      ["policy", "ok", "deny"],
      ["resolve", "error", "POLICY_DENIED"],
      ["get", "error", "POLICY_DENIED"],
      ["resolve", "error", "POLICY_DENIED"],
      ["inject", "ok", "GITHUB_TOKEN"],
    ]);
    expect(audit.entries.at(-1)).toMatchObject({ client: "run", purpose: "github-mcp-server", name: "gh" });
  });

  it("keeps policy and hosts when the user replaces a value without them; a new policy replaces the old", async () => {
    const { broker, store } = memoryBroker();
    await broker.storeSecret("gh", "v1", { policy: "deny", hosts: ["API.GitHub.com", "https://uploads.github.com/x"] }, user);
    await broker.storeSecret("gh", "v2", { tags: { k: "v" } }, user);
    expect(await store.get("gh")).toMatchObject({ value: "v2", policy: "deny", hosts: ["api.github.com", "uploads.github.com"], tags: { k: "v" } });
    await broker.storeSecret("gh", "v3", { policy: "allow", hosts: ["*.example.com:8443"] }, user);
    expect(await store.get("gh")).toMatchObject({ policy: "allow", hosts: ["*.example.com:8443"] });
  });

  it.each(["deny", "confirm"] as const)("an agent cannot replace or delete a '%s' secret; the user can, from the CLI", async (policy) => {
    const { broker, store, audit } = memoryBroker();
    await broker.storeSecret("gh", "user-value", { policy }, user);
    // An MCP client may call itself "cli": only the CLI's own `user` flag counts.
    for (const agent of [{ client: "claude" }, { client: "cli" }, {}]) {
      const replaced = await broker.storeSecret("gh", "agent-value", undefined, agent).catch((e: unknown) => e as BrokerError);
      expect(replaced).toBeInstanceOf(BrokerError);
      expect((replaced as BrokerError).code).toBe("POLICY_DENIED");
      expect((replaced as BrokerError).message).toContain(`has policy '${policy}': an agent cannot replace it. The user can, from a terminal: \`mcp-credentials-broker secret set gh\``);
      const deleted = await broker.deleteSecret("gh", agent).catch((e: unknown) => e as BrokerError);
      expect((deleted as BrokerError).code).toBe("POLICY_DENIED");
      expect((deleted as BrokerError).message).toContain("secret rm gh");
    }
    expect(await store.get("gh")).toMatchObject({ value: "user-value", policy });
    expect(audit.entries.filter((e) => e.client === "claude").map((e) => [e.event, e.outcome, e.error])).toEqual([
      ["store", "error", "POLICY_DENIED"],
      ["delete", "error", "POLICY_DENIED"],
    ]);
    // An agent signing in under that name (start_oauth_flow) would replace it too.
    const login = await broker.login({ provider: "github", secretName: "gh", scopes: [], mode: "auto" }, { authorizationUrl() {}, deviceCode() {}, progress() {} }, { client: "claude" }).catch((e: unknown) => e as BrokerError);
    expect((login as BrokerError).code).toBe("POLICY_DENIED");
    // The user replaces and deletes it.
    await broker.storeSecret("gh", "new-user-value", undefined, user);
    expect(await store.get("gh")).toMatchObject({ value: "new-user-value", policy });
    await broker.deleteSecret("gh", user);
    expect(await store.get("gh")).toBeNull();
  });

  it("an agent still stores new secrets and replaces or deletes 'allow' ones", async () => {
    const { broker, store } = memoryBroker();
    await broker.storeSecret("a", "v1", undefined, { client: "claude" });
    await broker.storeSecret("a", "v2", undefined, { client: "claude" });
    expect((await store.get("a"))?.value).toBe("v2");
    await broker.deleteSecret("a", { client: "claude" });
    expect(await store.get("a")).toBeNull();
  });

  it.each(["", "http://", "a b", "exa_mple.com", "-bad.com", "x".repeat(300), "host:999999", "*.*.com"])("refuses the host %j", async (host) => {
    const { broker } = memoryBroker();
    expect(await code(broker.storeSecret("gh", "v", { hosts: [host] }, cli))).toBe("INVALID_INPUT");
  });

  it("lists the effective policy (allow by default) and hosts", async () => {
    const { broker } = memoryBroker();
    await broker.storeSecret("a", "va", undefined, cli);
    await broker.storeSecret("b", "vb", { policy: "confirm", hosts: ["api.example.com"] }, cli);
    const list = await broker.listSecrets();
    expect(list.map((e) => [e.name, e.policy, e.hosts])).toEqual([
      ["a", "allow", undefined],
      ["b", "confirm", ["api.example.com"]],
    ]);
  });

  it("refuses setting the policy of a missing secret", async () => {
    const { broker } = memoryBroker();
    expect(await code(broker.setPolicy("nope", "deny", cli))).toBe("NOT_FOUND");
  });
});

describe("Broker expiry", () => {
  it("refuses an expired secret everywhere it would be used, saying how to get a fresh one", async () => {
    const { broker, store, clock } = memoryBroker();
    const now = clock.now();
    await store.set("oauth", { value: "v", provider: "github", expiresAt: now + 1000, createdAt: now, updatedAt: now });
    await store.set("plain", { value: "v", expiresAt: now + 1000, createdAt: now, updatedAt: now });
    const ref = await broker.issueReference("oauth", "p", 60, cli);
    clock.advance(1000);
    for (const p of [broker.resolveReference(ref.id, cli), broker.issueReference("oauth", "p", 60, cli), broker.readSecret("oauth", cli), broker.injectSecret("oauth", "T", { client: "run", purpose: "x" })]) {
      const e = await p.then(() => null, (err: BrokerError) => err);
      expect(e?.code).toBe("SECRET_EXPIRED");
      expect(e?.message).toContain("mcp-credentials-broker login github --name oauth");
    }
    const plain = await broker.injectSecret("plain", "T", { client: "run", purpose: "x" }).catch((err: BrokerError) => err);
    expect((plain as BrokerError).message).toContain("mcp-credentials-broker secret set plain");
  });
});

describe("Broker fingerprints", () => {
  it("identifies values by an HMAC that matches for equal values, differs otherwise, and is not a plain hash", async () => {
    const { broker, audit } = memoryBroker();
    await broker.storeSecret("a", "same-value", undefined, cli);
    await broker.storeSecret("b", "same-value", undefined, cli);
    await broker.storeSecret("c", "other-value", undefined, cli);
    const [a, b, c] = audit.entries.filter((e) => e.outcome === "ok").map((e) => e.fp);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(createHash("sha256").update("same-value").digest("hex")).not.toContain(a!);
    expect(await broker.injectSecret("a", "A", { client: "run", purpose: "x" })).toBe("same-value");
    expect(audit.entries.at(-1)!.fp).toBe(a);
  });

  it("keeps the HMAC key in the store, so another broker on the same store gives the same fingerprints", async () => {
    const first = memoryBroker();
    await first.broker.storeSecret("a", "v", undefined, cli);
    const secondAudit = new MemoryAuditLog();
    const second = new Broker({ ...first.deps, audit: secondAudit });
    await second.storeSecret("b", "v", undefined, cli);
    expect(secondAudit.entries[0]!.fp).toBe(first.audit.entries[0]!.fp);
    expect((await first.store.list()).map((e) => e.name)).toContain("mcb-internal:audit-hmac-key");
    expect((await first.broker.listSecrets()).map((e) => e.name)).toEqual(["a", "b"]);
  });
});

describe("Broker audit timing", () => {
  it("has a value's resolve line on disk (write-ahead file) before resolve returns, and chained with the next batch", async () => {
    const { mkdtempSync, readdirSync, readFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { dirname, join } = await import("node:path");
    const { FileAuditLog } = await import("../../src/files/audit-log.ts");
    const { readPendingLines } = await import("../../src/files/audit-pending.ts");
    const { Broker } = await import("../../src/core/broker.ts");
    const base = memoryBroker();
    const path = join(mkdtempSync(join(tmpdir(), "mcb-broker-audit-")), "audit.jsonl");
    const audit = new FileAuditLog({ path, now: Date.now });
    const broker = new Broker({ ...base.deps, audit });
    await broker.storeSecret("gh", "v1", undefined, cli);
    const ref = await broker.issueReference("gh", "p", 60, cli);
    expect(await broker.resolveReference(ref.id, cli)).toBe("v1");
    // No flush: the resolve line (and the lines queued before it) are already on disk, in
    // this process's write-ahead file; the chain gets them with the next batch.
    const pending = readdirSync(dirname(path)).filter((n) => n.startsWith("audit.jsonl.pending."));
    expect(pending).toHaveLength(1);
    const line = (l: string) => `${JSON.parse(l).event}:${JSON.parse(l).outcome}`;
    expect(readPendingLines(join(dirname(path), pending[0]!)).map(line)).toEqual(["store:intent", "store:ok", "get:ok", "resolve:ok"]);
    await audit.flush();
    const events = () => readFileSync(path, "utf8").trim().split("\n").map(line);
    expect(events()).toEqual(["store:intent", "store:ok", "get:ok", "resolve:ok"]);
    expect(readPendingLines(join(dirname(path), pending[0]!))).toEqual([]);
    await broker.deleteSecret("gh", cli);
    await audit.flush();
    expect(events()).toEqual(["store:intent", "store:ok", "get:ok", "resolve:ok", "delete:intent", "delete:ok"]);
    await broker.close();
    // Closed cleanly: the empty write-ahead file is gone.
    expect(readdirSync(dirname(path)).filter((n) => n.startsWith("audit.jsonl.pending."))).toEqual([]);
  });
});

/** `inner` with some of its methods replaced. */
function wrapStore(inner: Store, over: Partial<Pick<Store, "set" | "delete">>): Store {
  return {
    backend: inner.backend,
    description: inner.description,
    get: (n) => inner.get(n),
    set: (n, r) => inner.set(n, r),
    delete: (n) => inner.delete(n),
    list: () => inner.list(),
    close: () => inner.close(),
    ...over,
  };
}

describe("Broker: a change is made only once its intent line is written", () => {
  /** An audit log whose writes fail from now on (a full disk, a read-only data dir), as FileAuditLog fails. */
  class FailingAuditLog extends MemoryAuditLog {
    failing = false;
    override async record(entry: AuditEntry): Promise<void> {
      if (this.failing) throw new BrokerError("IO_ERROR", "Cannot write the audit log: ENOSPC");
      return super.record(entry);
    }
  }

  it("writes the intent line before the store changes, and the outcome after", async () => {
    const base = memoryBroker();
    const audit = new MemoryAuditLog();
    const seen: string[] = [];
    const store = wrapStore(base.store, {
      set: async (name: string, r: SecretRecord) => {
        if (!name.startsWith("mcb-internal:")) seen.push(`set ${name} after ${audit.entries.map((e) => `${e.event}:${e.outcome}`).join(",")}`);
        return base.store.set(name, r);
      },
      delete: async (name: string) => (seen.push(`delete ${name} after ${audit.entries.map((e) => `${e.event}:${e.outcome}`).join(",")}`), base.store.delete(name)),
    });
    const broker = new Broker({ ...base.deps, store, audit });
    await broker.storeSecret("gh", "v1", undefined, user);
    await broker.setPolicy("gh", "deny", user);
    await broker.deleteSecret("gh", user);
    expect(seen).toEqual([
      "set gh after store:intent",
      "set gh after store:intent,store:ok,policy:intent",
      "delete gh after store:intent,store:ok,policy:intent,policy:ok,delete:intent",
    ]);
    expect(audit.entries.find((e) => e.outcome === "intent" && e.event === "store")?.fp).toMatch(/^[0-9a-f]{32}$/);
  });

  it("refuses a store, a policy change and a delete with nothing changed when the intent line cannot be written", async () => {
    const base = memoryBroker();
    const audit = new FailingAuditLog();
    const broker = new Broker({ ...base.deps, audit });
    await broker.storeSecret("kept", "v1", { policy: "allow" }, user);
    audit.failing = true;
    for (const op of [broker.storeSecret("new", "v2", undefined, user), broker.storeSecret("kept", "v3", undefined, user), broker.setPolicy("kept", "deny", user), broker.deleteSecret("kept", user)]) {
      expect(await code(op)).toBe("IO_ERROR");
    }
    expect(await base.store.get("new")).toBeNull();
    expect(await base.store.get("kept")).toMatchObject({ value: "v1", policy: "allow" });
  });

  it("refuses a store with nothing stored when the fingerprint key cannot be created (it is made before the value is stored)", async () => {
    const base = memoryBroker();
    const store = wrapStore(base.store, {
      set: async (name: string, r: SecretRecord) => {
        if (name.startsWith("mcb-internal:")) throw new BrokerError("IO_ERROR", "Cannot write secrets.jsonl: ENOSPC (the disk is full)");
        return base.store.set(name, r);
      },
    });
    const broker = new Broker({ ...base.deps, store });
    expect(await code(broker.storeSecret("gh", "v1", undefined, user))).toBe("IO_ERROR");
    expect(await base.store.get("gh")).toBeNull();
    expect(base.audit.entries.map((e) => `${e.event}:${e.outcome}`)).toEqual(["store:error"]);
  });
});
