// The authorization code flow against the real oidc-provider fixture, driven by a scripted
// form browser: PKCE, state, nonce and `iss` (RFC 9207), and the attacks of acceptance 6
// that concern the flow itself.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { systemClock } from "../../src/core/clock.ts";
import { isBrokerError } from "../../src/errors.ts";
import { createLogger } from "../../src/log.ts";
import { silentUi, type OAuthDeps } from "../../src/oauth/oauth-deps.ts";
import { loadServerMetadata, serverMetadata } from "../../src/oauth/discovery.ts";
import { authorizationUrl, requestedScopes, runCodeFlow, type CodeFlowOptions } from "../../src/oauth/authorization-code.ts";
import { PROVIDERS, resolveProvider } from "../../src/oauth/providers.ts";
import { startIdp, type Idp } from "../fixtures/idp.ts";
import { formBrowser } from "../support/form-browser.ts";
import { freePort } from "../support/ports.ts";

let idp: Idp;
const logLines: string[] = [];
const deps: OAuthDeps = {
  fetch: (i, init) => fetch(i, init),
  clock: systemClock,
  log: createLogger({ debug: true, write: (l) => logLines.push(l) }),
  env: {},
  platform: "linux",
};

beforeAll(async () => {
  idp = await startIdp();
});
afterAll(async () => {
  await idp.stop();
});

function provider(extra: Record<string, string> = {}) {
  return resolveProvider("oauth2", { OAUTH2_CLIENT_ID: idp.clientId, OAUTH2_CLIENT_SECRET: idp.clientSecret, OAUTH2_ISSUER: idp.issuer, ...extra }, null);
}

/** Completes the login at the fixture and lands on our callback. */
function loginInBrowser(url: string) {
  return formBrowser(url, new URL(url).searchParams.get("redirect_uri")!);
}

/** Runs a flow whose "browser" calls back at once with `params(state)`; returns the flow's error and the page. */
async function forgedCallback(params: (state: string) => Record<string, string>): Promise<{ err: Error; res: Response }> {
  const p = provider();
  const meta = await loadServerMetadata(p, deps.fetch);
  let page: Promise<Response> | undefined;
  const err = await runCodeFlow(p, meta, deps, opts(async (url) => {
    const q = new URL(url).searchParams;
    page = fetch(`${q.get("redirect_uri")}?${new URLSearchParams(params(q.get("state")!))}`);
  }, { port: await freePort() })).then(() => new Error("the flow succeeded"), (e: Error) => e);
  return { err, res: await page! };
}

/** Flow options whose "browser" is `drive(url)`; the opener reports success. */
function opts(drive: (url: string) => Promise<unknown>, more: Partial<CodeFlowOptions> = {}): CodeFlowOptions {
  return {
    ui: silentUi,
    timeoutMs: 20_000,
    open: async (url) => {
      void drive(url);
      return true;
    },
    ...more,
  };
}

describe("authorization code flow", () => {
  it("logs in with PKCE S256, state, nonce; the access token works at userinfo; a refresh token comes with offline_access", async () => {
    const p = provider();
    const meta = await loadServerMetadata(p, deps.fetch);
    let page: Promise<{ status: number; page: string }> | undefined;
    let seenUrl = "";
    const grant = await runCodeFlow(p, meta, deps, opts((url) => {
      seenUrl = url;
      page = loginInBrowser(url);
      return page;
    }, { port: await freePort() }));
    const q = new URL(seenUrl).searchParams;
    expect(q.get("code_challenge_method")).toBe("S256");
    expect(q.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get("state")).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(q.get("nonce")).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(q.get("scope")).toBe("openid offline_access");
    expect(q.get("prompt")).toBe("consent");
    expect(q.get("redirect_uri")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback$/);
    expect(grant.tokens.refresh_token).toBeString();
    expect(grant.authMethod).toBe("client_secret_post");
    expect(await idp.userinfoStatus(grant.tokens.access_token)).toBe(200);
    const done = await page!;
    expect(done.status).toBe(200);
    expect(done.page).toContain("Signed in");
  });

  it("a public client (no secret) logs in with PKCE alone", async () => {
    const p = resolveProvider("oauth2", { OAUTH2_CLIENT_ID: idp.publicClientId, OAUTH2_ISSUER: idp.issuer }, null);
    const meta = await loadServerMetadata(p, deps.fetch);
    const grant = await runCodeFlow(p, meta, deps, opts((url) => loginInBrowser(url), { port: await freePort() }));
    expect(grant.authMethod).toBe("none");
    expect(await idp.userinfoStatus(grant.tokens.access_token)).toBe(200);
  });

  it("requests offline_access only when the server lists it, and the caller's scopes otherwise", () => {
    const as = { issuer: "https://x.example", scopes_supported: ["openid", "profile"] };
    expect(requestedScopes(PROVIDERS.oauth2, as, ["profile"])).toEqual(["profile"]);
    expect(requestedScopes(PROVIDERS.oauth2, { issuer: "https://x.example" }, undefined)).toEqual(["openid", "offline_access"]);
    expect(requestedScopes(PROVIDERS.azure, { issuer: "https://x.example" }, ["User.Read", "User.Read"])).toEqual(["User.Read", "offline_access"]);
    expect(requestedScopes(PROVIDERS.github, { issuer: "https://github.com" }, ["repo"])).toEqual(["repo"]);
  });

  it("google asks for offline access with access_type=offline and prompt=consent", () => {
    const p = resolveProvider("google", { GOOGLE_CLIENT_ID: "g" }, null);
    const url = new URL(authorizationUrl(p, serverMetadata({ issuer: "https://accounts.google.com", authorization_endpoint: p.server.authorization }, true), { scopes: ["openid"], redirectUri: "http://localhost:9876/oauth/callback", state: "s", codeChallenge: "c" }));
    expect(url.origin + url.pathname).toBe("https://accounts.google.com/o/oauth2/v2/auth");
    expect(url.searchParams.get("access_type")).toBe("offline");
    expect(url.searchParams.get("prompt")).toBe("consent");
    expect(url.searchParams.get("redirect_uri")).toBe("http://localhost:9876/oauth/callback");
  });
});

describe("callback attacks (acceptance 6)", () => {
  it("a wrong state is refused without cancelling the live flow; a replayed state is refused", async () => {
    const p = provider();
    const meta = await loadServerMetadata(p, deps.fetch);
    const port = await freePort();
    const wrong: number[] = [];
    let callbackUrl = "";
    const grant = await runCodeFlow(p, meta, deps, opts(async (url) => {
      const redirect = new URL(url).searchParams.get("redirect_uri")!;
      // An attacker's callbacks first: wrong state, and an error with a wrong state.
      for (const q of ["code=evil&state=nope", "error=access_denied&state=nope", "code=evil"]) {
        const r = await fetch(`${redirect}?${q}`);
        wrong.push(r.status);
        expect(await r.text()).not.toContain("evil");
      }
      const done = await formBrowser(url, redirect);
      callbackUrl = done.callbackUrl;
    }, { port }));
    expect(wrong).toEqual([400, 400, 400]);
    expect(await idp.userinfoStatus(grant.tokens.access_token)).toBe(200);
    // Replay of the accepted callback: the server has stopped, so the connection is refused.
    await expect(fetch(callbackUrl)).rejects.toThrow();
  });

  it("an iss that is not the issuer fails the flow (RFC 9207) before any code exchange", async () => {
    const exchanges = idp.counts.authorization_code;
    const { err, res } = await forgedCallback((state) => ({ code: "abc", state, iss: "https://evil.example" }));
    expect(isBrokerError(err, "OAUTH_INVALID_RESPONSE")).toBe(true);
    expect(err.message).toContain("RFC 9207");
    expect(res.status).toBe(400);
    expect(idp.counts.authorization_code).toBe(exchanges);
  });

  it("an error parameter holding HTML is shown escaped, with a CSP that forbids everything", async () => {
    const { err, res } = await forgedCallback((state) => ({ error: "<script>alert(1)</script>", error_description: '"><img src=x onerror=alert(2)>', state, iss: idp.issuer }));
    expect(isBrokerError(err, "OAUTH_ERROR")).toBe(true);
    expect(err.message).not.toContain("<script>");
    const html = await res.text();
    expect(res.headers.get("content-security-policy")).toStartWith("default-src 'none'");
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
  });

  it("unsafe authorization endpoints are refused before anything is opened", async () => {
    for (const bad of ["file:///etc/passwd", "javascript:alert(1)", "https://x.example/a b"]) {
      let opened = 0;
      const port = await freePort();
      // The metadata is checked when it is built (serverMetadata), so the flow never starts.
      const err = await (async () => runCodeFlow(provider(), serverMetadata({ issuer: idp.issuer, authorization_endpoint: bad, token_endpoint: `${idp.issuer}/token` }, true), deps, opts(async () => opened++, { port })))().catch((e) => e);
      expect(isBrokerError(err, "UNSAFE_URL")).toBe(true);
      expect(opened).toBe(0);
    }
  });

  it("two flows back to back on one port through a kept-alive connection both complete", async () => {
    const p = provider();
    const meta = await loadServerMetadata(p, deps.fetch);
    const port = await freePort();
    for (let i = 0; i < 2; i++) {
      const grant = await runCodeFlow(p, meta, deps, opts((url) => loginInBrowser(url), { port }));
      expect(await idp.userinfoStatus(grant.tokens.access_token)).toBe(200);
    }
  });

  it("never logs the code, state, verifier or tokens", async () => {
    const marks = { state: `CANARY-state-${crypto.randomUUID()}`, verifier: `CANARY-verifier-${crypto.randomUUID()}`, nonce: `CANARY-nonce-${crypto.randomUUID()}` };
    const planted: OAuthDeps = { ...deps, random: { state: () => marks.state, codeVerifier: () => marks.verifier, nonce: () => marks.nonce } };
    const p = provider();
    const meta = await loadServerMetadata(p, deps.fetch);
    let browser: ReturnType<typeof loginInBrowser> | undefined;
    const grant = await runCodeFlow(p, meta, planted, opts((url) => (browser = loginInBrowser(url)), { port: await freePort() }));
    const code = new URL((await browser!).callbackUrl).searchParams.get("code")!;
    const log = logLines.join("\n");
    for (const s of [marks.state, marks.verifier, marks.nonce, code, grant.tokens.access_token, grant.tokens.refresh_token!, idp.clientSecret]) expect(log).not.toContain(s);
    expect(log).toContain("authorization request ready");
  });
});
