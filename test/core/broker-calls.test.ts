// The Broker's calls for what commands used to do around it (status, provider settings, JWKS,
// changes made outside the store): each change writes an intent line before it and an
// outcome after it, and no line holds a secret.
import { describe, expect, it } from "bun:test";
import { MemoryAuditLog, type AuditEntry } from "../../src/core/audit.ts";
import { Broker } from "../../src/core/broker.ts";
import type { OAuthPort } from "../../src/core/oauth.ts";
import { ManualClock } from "../../src/core/clock.ts";
import { BrokerError } from "../../src/errors.ts";
import { code, memoryBroker } from "./fixtures.ts";

const user = { client: "cli", user: true };
const SECRET = "client-secret-canary-5f2a";

const events = (entries: AuditEntry[]) => entries.map((e) => `${e.event}:${e.outcome}`);

describe("Broker provider settings", () => {
  it("saves a client with an intent line first, lists it without its secret, and no audit line holds the secret", async () => {
    const { broker, audit, store } = memoryBroker();
    let linesAtWrite = -1;
    const set = store.set.bind(store);
    store.set = async (name, record) => {
      if (name === "mcb-internal:provider:github") linesAtWrite = audit.entries.length;
      return set(name, record);
    };
    await broker.saveProviderSettings("github", { clientId: "Iv1.abc", clientSecret: SECRET, host: "ghe.example.com" }, user);
    expect(linesAtWrite).toBe(1); // the intent line was on record before the write
    expect(audit.entries).toEqual([
      { event: "provider-add", provider: "github", client: "cli", outcome: "intent" },
      { event: "provider-add", provider: "github", client: "cli", outcome: "ok" },
    ]);
    expect(JSON.stringify(audit.entries)).not.toContain(SECRET);
    expect(await broker.savedProviders()).toEqual([{ provider: "github", clientId: "Iv1.abc", host: "ghe.example.com", hasSecret: true }]);
    expect(JSON.stringify(await broker.savedProviders())).not.toContain(SECRET);
    // An internal item: never a user secret.
    expect(await broker.listSecrets()).toEqual([]);
    expect((await broker.status()).savedProviders).toEqual(["github"]);
  });

  it("replaces earlier settings, keeping when they were first saved", async () => {
    const { broker, clock, store } = memoryBroker();
    await broker.saveProviderSettings("okta", { clientId: "a", domain: "dev-1.okta.com" }, user);
    const first = await store.get("mcb-internal:provider:okta");
    clock.advance(1000);
    await broker.saveProviderSettings("okta", { clientId: "b", domain: "dev-1.okta.com" }, user);
    const second = await store.get("mcb-internal:provider:okta");
    expect(second?.createdAt).toBe(first!.createdAt);
    expect(second?.updatedAt).toBe(first!.updatedAt + 1000);
    expect((await broker.savedProviders())[0]).toMatchObject({ clientId: "b", hasSecret: false });
  });

  it("refuses invalid settings and provider ids before writing anything; the error line names no secret", async () => {
    const { broker, audit, store } = memoryBroker();
    expect(await code(broker.saveProviderSettings("github", { clientId: "", clientSecret: SECRET }, user))).toBe("INVALID_INPUT");
    expect(await code(broker.saveProviderSettings("../x", { clientId: "a" }, user))).toBe("INVALID_INPUT");
    expect(await store.list()).toEqual([]);
    expect(events(audit.entries)).toEqual(["provider-add:error", "provider-add:error"]);
    expect(JSON.stringify(audit.entries)).not.toContain(SECRET);
  });

  it("removes a saved client with an intent line first; NOT_FOUND when none is saved", async () => {
    const { broker, audit } = memoryBroker();
    await broker.saveProviderSettings("google", { clientId: "g", clientSecret: SECRET }, user);
    await broker.removeProviderSettings("google", user);
    expect(await broker.savedProviders()).toEqual([]);
    expect(events(audit.entries)).toEqual(["provider-add:intent", "provider-add:ok", "provider-rm:intent", "provider-rm:ok"]);
    expect(await code(broker.removeProviderSettings("google", user))).toBe("NOT_FOUND");
    // Nothing to remove: no intent line, only the refusal.
    expect(events(audit.entries).slice(4)).toEqual(["provider-rm:error"]);
    expect(audit.entries.at(-1)).toMatchObject({ provider: "google", error: "NOT_FOUND" });
  });
});

describe("Broker.status", () => {
  it("reports the store, user secrets, remote logins by server and expiry, saved providers and the signing mode — never a value", async () => {
    const { broker, store } = memoryBroker();
    await broker.storeSecret("gh", "value-canary-1", undefined, user);
    await store.set("mcb-internal:remote-token:abc", { value: "token-canary-2", tags: { upstream: "https://mcp.example.com/" }, expiresAt: 5, createdAt: 1, updatedAt: 1 });
    await store.set("mcb-internal:remote-client:abc", { value: "{}", createdAt: 1, updatedAt: 1 });
    await broker.saveProviderSettings("azure", { clientId: "az", clientSecret: SECRET }, user);
    const s = await broker.status();
    expect(s).toEqual({
      store: { backend: "memory", description: expect.any(String) },
      secrets: ["gh"],
      remoteLogins: [{ upstream: "https://mcp.example.com/", expiresAt: 5 }],
      savedProviders: ["azure"],
      tokenSigning: "ES256 (key pair kept in the store)",
    });
    expect(JSON.stringify(s)).not.toMatch(/canary|client-secret/);
    expect((await memoryBroker({ jwtSecret: "x".repeat(32) }).broker.status()).tokenSigning).toBe("HS256 (JWT_SECRET)");
  });
});

describe("Broker.jwks", () => {
  it("publishes the ES256 public key only", async () => {
    const { broker } = memoryBroker();
    const { keys } = await broker.jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "EC", crv: "P-256" });
    expect(keys[0]).not.toHaveProperty("d");
  });
});

describe("Broker.auditChange", () => {
  it("writes the intent line before the change runs, then its outcome, and returns the change's result", async () => {
    const { broker, audit } = memoryBroker();
    let seen: string[] = [];
    const r = await broker.auditChange({ event: "install", target: "claude-desktop" }, user, async () => {
      seen = events(audit.entries);
      return 42;
    });
    expect(r).toBe(42);
    expect(seen).toEqual(["install:intent"]);
    expect(audit.entries).toEqual([
      { event: "install", target: "claude-desktop", client: "cli", outcome: "intent" },
      { event: "install", target: "claude-desktop", client: "cli", outcome: "ok" },
    ]);
  });

  it("records a failed change with its error code and rethrows", async () => {
    const { broker, audit } = memoryBroker();
    const failing = broker.auditChange({ event: "proxy-stop", target: "https://mcp.example.com" }, user, async () => {
      throw new BrokerError("NOT_FOUND", "no proxy running");
    });
    expect(await code(failing)).toBe("NOT_FOUND");
    expect(events(audit.entries)).toEqual(["proxy-stop:intent", "proxy-stop:error"]);
    expect(audit.entries[1]).toMatchObject({ error: "NOT_FOUND", target: "https://mcp.example.com" });
  });

  it("does not run the change when the log cannot be written (fail closed)", async () => {
    const base = memoryBroker();
    const audit = new MemoryAuditLog();
    audit.assertWritable = () => {
      throw new BrokerError("STORE_READ_ONLY", "read-only");
    };
    const broker = new Broker({ ...base.deps, audit });
    let ran = false;
    expect(await code(broker.auditChange({ event: "uninstall", target: "cursor" }, user, async () => void (ran = true)))).toBe("STORE_READ_ONLY");
    expect(ran).toBe(false);
  });

  it("accepts only the events of changes made outside the broker", async () => {
    const { broker, audit } = memoryBroker();
    let ran = false;
    expect(await code(broker.auditChange({ event: "store" as never }, user, async () => void (ran = true)))).toBe("INVALID_INPUT");
    expect(ran).toBe(false);
    expect(audit.entries).toEqual([]);
  });
});

describe("Broker.login", () => {
  it("returns the token's remaining lifetime by the broker's clock", async () => {
    const clock = new ManualClock(1_000_000);
    const base = memoryBroker({ clock });
    const record = { value: "t", createdAt: 1, updatedAt: 1, expiresAt: 1_000_000 + 3_600_500 };
    const port: OAuthPort = {
      login: async () => ({ record, byOtherProcess: false, method: "browser" }),
      refresh: async (_n, r) => r,
      revoke: async () => "not-supported" as never,
    };
    const broker = new Broker({ ...base.deps, oauth: async () => port });
    const r = await broker.login({ provider: "github", secretName: "gh", mode: "auto" }, { authorizationUrl() {}, deviceCode() {}, progress() {} }, user);
    expect(r.expiresIn).toBe(3600);
    expect(base.audit.entries.map((e) => `${e.event}:${e.outcome}`)).toEqual(["login:intent", "login:ok"]);
  });
});
