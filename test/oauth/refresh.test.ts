// Refresh (acceptance 5) in one process against the real IdP: proactive refresh through the
// broker's single "usable value" path, one request for 50 concurrent callers, rotation,
// two refreshers sharing a lock directory (as two processes do), invalid_grant terminal
// for the failed generation only, and transient failures.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryAuditLog } from "../../src/core/audit.ts";
import { Broker } from "../../src/core/broker.ts";
import type { OAuthPort } from "../../src/core/oauth.ts";
import { systemClock } from "../../src/core/clock.ts";
import { MemoryRevocationList } from "../../src/core/revocations.ts";
import { isBrokerError } from "../../src/errors.ts";
import { createLogger } from "../../src/log.ts";
import { silentUi } from "../../src/oauth/oauth-deps.ts";
import type { FetchLike } from "../../src/oauth/http.ts";
import { createOAuthService } from "../../src/oauth/oauth-port.ts";
import { acquireLock, type LockOptions } from "../../src/files/lock-file.ts";
import { MemoryStore } from "../../src/store/memory.ts";
import type { Store } from "../../src/core/store.ts";
import { startIdp, type Idp } from "../fixtures/idp.ts";
import { formBrowser } from "../support/form-browser.ts";
import { freePort } from "../support/ports.ts";

let idp: Idp;
beforeAll(async () => {
  idp = await startIdp();
});
afterAll(async () => {
  await idp.stop();
});

/** A broker process: its own OAuth service (refresher), a shared store and lock directory. */
function brokerProcess(store: Store, lockDir: string, fetchImpl: FetchLike = (i, init) => fetch(i, init)) {
  const withLock = async <T,>(name: string, fn: () => Promise<T>, opts?: LockOptions) => {
    const release = await acquireLock(join(lockDir, `${name}.lock`), opts);
    try {
      return await fn();
    } finally {
      release();
    }
  };
  const env = { OAUTH2_CLIENT_ID: idp.clientId, OAUTH2_CLIENT_SECRET: idp.clientSecret, OAUTH2_ISSUER: idp.issuer };
  let port: OAuthPort | null = null;
  const oauth = async () =>
    (port ??= createOAuthService({
      store,
      withLock,
      clock: systemClock,
      log: createLogger({ debug: false, write: () => {} }),
      env,
      platform: "linux",
      fetch: fetchImpl,
      canOpenBrowser: () => true,
      openBrowser: async (url) => {
        void formBrowser(url, new URL(url).searchParams.get("redirect_uri")!);
        return true;
      },
    }));
  return new Broker({ store, clock: systemClock, audit: new MemoryAuditLog(), revocations: new MemoryRevocationList(() => Date.now()), withLock, oauth, loginDefaults: { timeoutMs: 20_000 } });
}

/**
 * Logs in with a token that lives `ttlSeconds`. Unless `fresh`, it is then dated an hour
 * back — a token issued long ago, now within the 60 s refresh skew — since a token that
 * only ever lived 30 s gets a skew of a quarter of that (src/core/expiry.ts).
 */
async function loggedIn(name: string, ttlSeconds: number, opts: { fresh?: boolean } = {}) {
  const store = new MemoryStore();
  const lockDir = mkdtempSync(join(tmpdir(), "mcb-refresh-"));
  const broker = brokerProcess(store, lockDir);
  idp.accessTokenTtl = ttlSeconds;
  await broker.login({ provider: "oauth2", secretName: name, mode: "browser", port: await freePort() }, silentUi, { client: "test" });
  idp.accessTokenTtl = 3600;
  if (!opts.fresh) {
    const rec = (await store.get(name))!;
    await store.set(name, { ...rec, updatedAt: rec.updatedAt - 3_600_000 });
  }
  return { store, lockDir, broker };
}

async function resolveValue(broker: Broker, name: string): Promise<string> {
  const ref = await broker.issueReference(name, "test", 60, {});
  return broker.resolveReference(ref.id, {});
}

describe("refresh", () => {
  it("a token within 60 s of expiry (issued an hour ago) is refreshed by get_secret; 50 concurrent callers cause one refresh request", async () => {
    const { broker, store } = await loggedIn("r1", 30);
    const before = await store.get("r1");
    const count = idp.counts.refresh_token;
    const values = await Promise.all(Array.from({ length: 50 }, () => resolveValue(broker, "r1")));
    expect(idp.counts.refresh_token - count).toBe(1);
    expect(new Set(values).size).toBe(1);
    expect(values[0]).not.toBe(before!.value);
    expect(await idp.userinfoStatus(values[0]!)).toBe(200);
    const after = await store.get("r1");
    expect(after!.oauth!.generation).toBe(before!.oauth!.generation + 1);
    // Rotation: a new refresh token was stored.
    expect(after!.oauth!.refreshToken).not.toBe(before!.oauth!.refreshToken);
    // Fresh now: no further request.
    await resolveValue(broker, "r1");
    expect(idp.counts.refresh_token - count).toBe(1);
  }, 30_000);

  it("a token that lives less than the 60 s skew is not refreshed on every call: only in the last quarter of its life", async () => {
    const { broker, store } = await loggedIn("short", 30, { fresh: true });
    const issued = (await store.get("short"))!;
    const count = idp.counts.refresh_token;
    for (let i = 0; i < 5; i++) expect(await resolveValue(broker, "short")).toBe(issued.value);
    expect(idp.counts.refresh_token - count).toBe(0);
    // With 5 s left of its 30 s (under a quarter), the next call refreshes it, once.
    await store.set("short", { ...issued, expiresAt: Date.now() + 5_000, updatedAt: Date.now() - 25_000 });
    const fresh = await resolveValue(broker, "short");
    expect(fresh).not.toBe(issued.value);
    await resolveValue(broker, "short");
    expect(idp.counts.refresh_token - count).toBe(1);
  }, 30_000);

  it("a token that has expired is refreshed too, and the old one no longer works", async () => {
    const { broker, store } = await loggedIn("r2", 1);
    const old = (await store.get("r2"))!.value;

    // Expiry has whole-second resolution at the IdP.
    await Bun.sleep(2_100);
    expect(await idp.userinfoStatus(old)).toBe(401);
    const fresh = await broker.readSecret("r2", { client: "cli" });
    expect(fresh).not.toBe(old);
    expect(await idp.userinfoStatus(fresh)).toBe(200);
  }, 30_000);

  it("two broker processes sharing a store and lock directory refresh once; the loser reads the winner's token", async () => {
    const { store, lockDir } = await loggedIn("r3", 30);
    const count = idp.counts.refresh_token;
    const a = brokerProcess(store, lockDir);
    const b = brokerProcess(store, lockDir);
    const [va, vb] = await Promise.all([a.readSecret("r3", {}), b.readSecret("r3", {})]);
    expect(idp.counts.refresh_token - count).toBe(1);
    expect(va).toBe(vb);
  }, 30_000);

  it("a revoked refresh token gives LOGIN_REQUIRED with the command to log in again, once", async () => {
    const { broker, store } = await loggedIn("r4", 30);
    const rt = (await store.get("r4"))!.oauth!.refreshToken!;
    const res = await fetch(`${idp.issuer}/token/revocation`, { method: "POST", body: new URLSearchParams({ token: rt, client_id: idp.clientId, client_secret: idp.clientSecret }) });
    expect(res.status).toBe(200);
    const err = await broker.issueReference("r4", "test", 60, {}).catch((e) => e);
    expect(isBrokerError(err, "LOGIN_REQUIRED")).toBe(true);
    expect(err.message).toContain(`mcp-credentials-broker login ${idp.issuer} --name r4`);
    expect(err.message).not.toContain(rt);
    const rec = (await store.get("r4"))!;
    expect(rec.oauth!.loginRequired).toBe(true);
    expect(rec.oauth!.refreshToken).toBeUndefined();
    // Terminal: the next call does not ask the provider again; the token still works until it expires.
    const count = idp.counts.refresh_token;
    expect(await broker.readSecret("r4", {})).toBe(rec.value);
    expect(idp.counts.refresh_token).toBe(count);
  }, 30_000);

  it("invalid_grant clears only the generation that failed, never a newer login's", async () => {
    const { store, lockDir } = await loggedIn("r5", 30);
    const seen = (await store.get("r5"))!;
    // While the refresh request is in flight, another process logs in again (generation + 1).
    const racing: FetchLike = async (input, init) => {
      const body = String(init?.body ?? "");
      if (body.includes("grant_type=refresh_token")) {
        const cur = (await store.get("r5"))!;
        await store.set("r5", { ...cur, value: "newer-login-token", oauth: { ...cur.oauth!, refreshToken: "newer-refresh", generation: cur.oauth!.generation + 1 } });
        return new Response(JSON.stringify({ error: "invalid_grant" }), { status: 400, headers: { "content-type": "application/json" } });
      }
      return fetch(input, init);
    };
    const broker = brokerProcess(store, lockDir, racing);
    const err = await broker.readSecret("r5", {}).catch((e) => e);
    expect(isBrokerError(err, "LOGIN_REQUIRED")).toBe(true);
    const after = (await store.get("r5"))!;
    expect(after.value).toBe("newer-login-token");
    expect(after.oauth).toMatchObject({ refreshToken: "newer-refresh", generation: seen.oauth!.generation + 1 });
    expect(after.oauth!.loginRequired).toBeUndefined();
  }, 30_000);

  it("a transient failure hands out the current token while it is still valid, and fails once it has expired", async () => {
    const { store, lockDir } = await loggedIn("r6", 30);
    const down: FetchLike = async () => {
      throw new TypeError("network down");
    };
    const broker = brokerProcess(store, lockDir, down);
    const cur = (await store.get("r6"))!;
    expect(await broker.readSecret("r6", {})).toBe(cur.value);
    await store.set("r6", { ...cur, expiresAt: Date.now() - 1 });
    const err = await broker.readSecret("r6", {}).catch((e) => e);
    expect(isBrokerError(err, "OAUTH_ERROR")).toBe(true);
    expect(err.message).not.toContain(cur.oauth!.refreshToken!);
  }, 30_000);

  it("an expired token without a refresh token is LOGIN_REQUIRED, without loading OAuth", async () => {
    const store = new MemoryStore();
    const broker = new Broker({ store, clock: systemClock, audit: new MemoryAuditLog(), revocations: new MemoryRevocationList(() => Date.now()), withLock: (_n, fn) => fn() });
    await store.set("gh", { value: "t", provider: "github", expiresAt: Date.now() - 1000, createdAt: 1, updatedAt: 1, oauth: { provider: "github", clientId: "c", authMethod: "none", tokenEndpoint: "https://github.com/login/oauth/access_token", tokenType: "bearer", generation: 1 } });
    const err = await broker.readSecret("gh", {}).catch((e) => e);
    expect(isBrokerError(err, "LOGIN_REQUIRED")).toBe(true);
    expect(err.message).toContain("mcp-credentials-broker login github --name gh");
  });
});
