// The remote token source against real parts: the oidc-provider fixture (DCR, resource
// indicators, JWT access tokens) and the remote MCP fixture, logged in by Chromium.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { decodeJwt } from "jose";
import { silentUi } from "../../src/oauth/oauth-deps.ts";
import { MemoryStore } from "../../src/store/memory.ts";
import { remoteConfig } from "../../src/remote/config.ts";
import { RemoteSession, type RemoteDeps } from "../../src/remote/session.ts";
import { freePort } from "../support/ports.ts";
import { suiteCanRun } from "../support/requirements.ts";
import { remoteTestDeps, startRemoteIdp, useRemoteWorld } from "../support/remote.ts";
import type { Idp } from "../fixtures/idp.ts";

const canRun = suiteCanRun("remote session with Chromium", ["chromium"], "apt-get install -y --no-install-recommends chromium");

let idp2: Idp;
const w = useRemoteWorld(canRun);
beforeAll(async () => {
  if (canRun) idp2 = await startRemoteIdp();
}, 30_000);
afterAll(() => idp2?.stop());

function deps(store: MemoryStore, signInUntil: () => string): RemoteDeps {
  return remoteTestDeps(store, {
    openBrowser: async (url) => {
      // Consent already given: the page may land before the helper looks for a form.
      void w.chromium.signIn(url, signInUntil()).catch(() => {});
      return true;
    },
  });
}

/** An MCP initialize request with `token`; resolves to the HTTP status. */
async function initializeWith(token: string): Promise<number> {
  const res = await fetch(w.remote.url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe.if(canRun)("remote session", () => {
  it("discovers through the 401 challenge and RFC 9728, registers (RFC 7591), logs in with resource= and gets a JWT for this server only", async () => {
    const store = new MemoryStore();
    const port = await freePort();
    const s = new RemoteSession(remoteConfig(w.remote.url, {}), deps(store, () => `http://127.0.0.1:${port}/oauth/callback`));
    expect(await s.accessToken()).toBeNull();
    const regBefore = w.idp.counts.registration;
    await s.login(silentUi, { mode: "browser", timeoutMs: 30_000, port });
    expect(w.idp.counts.registration).toBe(regBefore + 1);
    const token = (await s.accessToken())!;
    expect(decodeJwt(token)).toMatchObject({ aud: w.remote.url, iss: w.idp.issuer });
    expect(await initializeWith(token)).toBe(200);
    const st = await s.status();
    expect(st).toMatchObject({ upstream: w.remote.url, loggedIn: true, issuer: w.idp.issuer, refreshable: true });
    expect(JSON.stringify(st)).not.toContain(token);

    // A 401 for the current token: one forced refresh, with the resource again.
    const refreshes = w.idp.counts.refresh_token;
    const next = (await s.afterUnauthorized(token))!;
    expect(w.idp.counts.refresh_token).toBe(refreshes + 1);
    expect(next).not.toBe(token);
    expect(decodeJwt(next).aud).toBe(w.remote.url);
    expect(w.idp.requestBodies.at(-1)).toContain(`resource=${encodeURIComponent(w.remote.url)}`);

    // Same port: the stored registration is reused; another port: re-registered.
    await s.login(silentUi, { mode: "browser", timeoutMs: 30_000, port });
    expect(w.idp.counts.registration).toBe(regBefore + 1);
    const port2 = await freePort();
    const s2 = new RemoteSession(remoteConfig(w.remote.url, {}), deps(store, () => `http://127.0.0.1:${port2}/oauth/callback`));
    await s2.login(silentUi, { mode: "browser", timeoutMs: 30_000, port: port2 });
    expect(w.idp.counts.registration).toBe(regBefore + 2);
  }, 60_000);

  it("a metadata switch to another issuer sends it no stored credential: it registers and logs in again", async () => {
    const store = new MemoryStore();
    const port = await freePort();
    const s = new RemoteSession(remoteConfig(w.remote.url, {}), deps(store, () => `http://127.0.0.1:${port}/oauth/callback`));
    await s.login(silentUi, { mode: "browser", timeoutMs: 30_000, port });
    const token = (await s.accessToken())!;
    const refreshToken = (await store.get(s.names.token))!.oauth!.refreshToken!;
    const client = JSON.parse((await store.get(s.names.client))!.value) as { clientId: string };
    try {
      w.remote.issuer = idp2.issuer;
      const bodies = idp2.requestBodies.length;
      const refreshesAtOld = w.idp.counts.refresh_token;
      // The server now rejects the old issuer's token.
      expect(await initializeWith(token)).toBe(401);
      expect(await s.afterUnauthorized(token)).toBeNull();
      expect(idp2.counts.refresh_token).toBe(0);
      expect(w.idp.counts.refresh_token).toBe(refreshesAtOld);
      const regAt2 = idp2.counts.registration;
      await s.login(silentUi, { mode: "browser", timeoutMs: 30_000, port });
      expect(idp2.counts.registration).toBe(regAt2 + 1);
      const seen = idp2.requestBodies.slice(bodies).join("\n");
      expect(seen).not.toContain(refreshToken);
      expect(seen).not.toContain(client.clientId);
      const fresh = (await s.accessToken())!;
      expect(decodeJwt(fresh).iss).toBe(idp2.issuer);
      expect(await initializeWith(fresh)).toBe(200);
    } finally {
      w.remote.issuer = w.idp.issuer;
    }
  }, 60_000);

  it("explicit AUTHORIZATION_ENDPOINT + TOKEN_ENDPOINT + ISSUER and CLIENT_ID work without any discovery", async () => {
    const store = new MemoryStore();
    const port = await freePort();
    // Without discovery nothing names the scopes (none are sent unless SCOPES says): this IdP wants one.
    const env = { AUTHORIZATION_ENDPOINT: `${w.idp.issuer}/auth`, TOKEN_ENDPOINT: `${w.idp.issuer}/token`, ISSUER: w.idp.issuer, CLIENT_ID: w.idp.publicClientId, SCOPES: "mcp:tools" };
    const s = new RemoteSession(remoteConfig(w.remote.url, env), deps(store, () => `http://127.0.0.1:${port}/oauth/callback`));
    const paths = w.idp.paths.length;
    const regs = w.idp.counts.registration;
    await s.login(silentUi, { mode: "browser", timeoutMs: 30_000, port });
    expect(w.idp.paths.slice(paths).filter((p) => p.includes(".well-known"))).toEqual([]);
    expect(w.idp.counts.registration).toBe(regs);
    expect(await initializeWith((await s.accessToken())!)).toBe(200);
  }, 60_000);

  it("a running session picks up a login another process stored, without a refresh or a restart", async () => {
    const store = new MemoryStore();
    const port = await freePort();
    const until = () => `http://127.0.0.1:${port}/oauth/callback`;
    const running = new RemoteSession(remoteConfig(w.remote.url, {}), deps(store, until));
    await running.login(silentUi, { mode: "browser", timeoutMs: 30_000, port });
    const old = (await running.accessToken())!;
    // Another process (another session on the same store) signs in again later.
    await Bun.sleep(1100);
    const other = new RemoteSession(remoteConfig(w.remote.url, {}), deps(store, until));
    await other.login(silentUi, { mode: "browser", timeoutMs: 30_000, port });
    const fresh = (await other.accessToken())!;
    expect(fresh).not.toBe(old);
    try {
      // The server now refuses tokens issued before the second login.
      w.remote.notBefore = (decodeJwt(fresh).iat ?? 0);
      expect(await initializeWith(old)).toBe(401);
      const refreshes = w.idp.counts.refresh_token;
      expect(await running.afterUnauthorized(old)).toBe(fresh);
      expect(w.idp.counts.refresh_token).toBe(refreshes);
      expect(await running.accessToken()).toBe(fresh);
    } finally {
      w.remote.notBefore = 0;
    }
  }, 60_000);
});
