// The proxy in-process against real parts (oidc-provider, the remote MCP fixture, Chromium):
// every mcp_auth_proxy variable, the login through /oauth/login, and the attacks of issue 6
// acceptance 5. Everything listens on and talks to 127.0.0.1 only.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger } from "../../src/log.ts";
import { remoteConfig, remoteNames } from "../../src/remote/config.ts";
import { startProxy, upstreamUrl, type RunningProxy } from "../../src/remote/proxy.ts";
import { proxyConfig } from "../../src/remote/proxy-config.ts";
import { RemoteSession } from "../../src/remote/session.ts";
import { MemoryStore } from "../../src/store/memory.ts";
import { startRemoteMcp, type RemoteMcp } from "../fixtures/remote-mcp.ts";
import { freePort } from "../support/ports.ts";
import { suiteCanRun } from "../support/requirements.ts";
import { remoteTestDeps, useRemoteWorld } from "../support/remote.ts";
import type { Idp } from "../fixtures/idp.ts";

const canRun = suiteCanRun("proxy with Chromium", ["chromium"], "apt-get install -y --no-install-recommends chromium");

const started: RunningProxy[] = [];

const w = useRemoteWorld(canRun);
afterAll(async () => {
  for (const p of started) await p.stop();
});

async function proxy(env: Record<string, string>, store = new MemoryStore(), logLines: string[] = []) {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const full = { UPSTREAM_MCP_URL: w.remote.url, PORT: String(port), ...env };
  const session = new RemoteSession(remoteConfig(undefined, full), remoteTestDeps(store, { env: full }));
  const config = proxyConfig(full);
  const p = await startProxy({ config, session, fetch: (i, init) => fetch(i, init), log: createLogger({ debug: false, write: (l) => logLines.push(l) }), loginTimeoutMs: 30_000 });
  started.push(p);
  return { base: `http://127.0.0.1:${port}`, port, session, store, config };
}

/** The authorization URL /oauth/login redirects to. */
async function loginLocation(base: string): Promise<URL> {
  const res = await fetch(`${base}/oauth/login`, { redirect: "manual" });
  expect(res.status).toBe(302);
  return new URL(res.headers.get("location")!);
}

/** A raw HTTP request with exactly these headers (fetch would set Host itself, and refuses some). */
function raw(port: number, path: string, headers: Record<string, string>, method = "GET", body?: string): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const INIT = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } });
const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

describe.if(canRun)("proxy variables", () => {
  it("without a login, /mcp answers 401 JSON pointing to /oauth/login; /health, /, /mcp/health and /oauth/status answer", async () => {
    const p = await proxy({});
    const res = await fetch(`${p.base}/mcp`, { method: "POST", headers: MCP_HEADERS, body: INIT });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "login_required", login_url: `${p.base}/oauth/login` });
    expect(await (await fetch(`${p.base}/health`)).json()).toEqual({ status: "ok" });
    expect(await (await fetch(`${p.base}/`)).json()).toMatchObject({ upstream: w.remote.url, login: `${p.base}/oauth/login` });
    expect((await fetch(`${p.base}/mcp/health`)).status).toBe(503);
    expect(await (await fetch(`${p.base}/oauth/status`)).json()).toMatchObject({ upstream: w.remote.url, loggedIn: false, issuer: w.idp.issuer, registrationEndpoint: `${w.idp.issuer}/reg` });
  });

  it("/oauth/login: PUBLIC_BASE_URL + REDIRECT_PATH make the redirect URI; SCOPES the scope; the resource is UPSTREAM_MCP_URL (RFC 8707)", async () => {
    const port = await freePort();
    const p = await proxy({ PORT: String(port), PUBLIC_BASE_URL: `http://localhost:${port}`, REDIRECT_PATH: "/cb/here", SCOPES: "mcp:tools,offline_access" });
    const loc = await loginLocation(p.base);
    expect(loc.origin).toBe(w.idp.issuer);
    expect(loc.searchParams.get("redirect_uri")).toBe(`http://localhost:${port}/cb/here`);
    expect(loc.searchParams.get("scope")).toBe("mcp:tools offline_access");
    expect(loc.searchParams.get("resource")).toBe(w.remote.url);
    // The host of PUBLIC_BASE_URL is accepted.
    expect((await raw(port, "/health", { host: `localhost:${port}` })).status).toBe(200);
  });

  it("without SCOPES the metadata's scopes_supported are asked for", async () => {
    const loc = await loginLocation((await proxy({})).base);
    expect(loc.searchParams.get("scope")).toBe("mcp:tools offline_access");
  });

  it("CLIENT_ID (with CLIENT_SECRET) is used instead of registering; AUTO_REGISTER_CLIENT=false without one fails clearly", async () => {
    const regs = w.idp.counts.registration;
    const loc = await loginLocation((await proxy({ CLIENT_ID: w.idp.clientId, CLIENT_SECRET: w.idp.clientSecret })).base);
    expect(loc.searchParams.get("client_id")).toBe(w.idp.clientId);
    expect(w.idp.counts.registration).toBe(regs);
    const p = await proxy({ AUTO_REGISTER_CLIENT: "false" });
    const res = await fetch(`${p.base}/oauth/login`, { redirect: "manual" });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error_description: string }).error_description).toContain("AUTO_REGISTER_CLIENT=false");
    expect(w.idp.counts.registration).toBe(regs);
  });

  it("AUTHORIZATION_ENDPOINT + TOKEN_ENDPOINT + ISSUER skip discovery; one without the other is a startup error", async () => {
    const loc = await loginLocation((await proxy({ AUTHORIZATION_ENDPOINT: `${w.idp.issuer}/auth`, TOKEN_ENDPOINT: `${w.idp.issuer}/token`, ISSUER: w.idp.issuer, CLIENT_ID: w.idp.publicClientId })).base);
    expect(`${loc.origin}${loc.pathname}`).toBe(`${w.idp.issuer}/auth`);
    expect(() => remoteConfig(w.remote.url, { AUTHORIZATION_ENDPOINT: `${w.idp.issuer}/auth` })).toThrow(/TOKEN_ENDPOINT/);
    expect(() => remoteConfig(w.remote.url, { TOKEN_ENDPOINT: `${w.idp.issuer}/token` })).toThrow(/must come together/);
  });

  it("PROBE_PATH finds metadata that neither the challenge nor the well-known paths give", async () => {
    const hidden = await startRemoteMcp({ issuer: w.idp.issuer, hiddenMetadataPath: "/meta/prm.json" });
    try {
      const env = { UPSTREAM_MCP_URL: hidden.url };
      const without = await proxy(env);
      // Without metadata the server's origin is taken as the issuer, which is not an OAuth server.
      expect((await fetch(`${without.base}/oauth/login`, { redirect: "manual" })).status).toBe(502);
      const loc = await loginLocation((await proxy({ ...env, PROBE_PATH: "/meta/prm.json" })).base);
      expect(loc.origin).toBe(w.idp.issuer);
    } finally {
      await hidden.stop();
    }
  });

  it("KEYCHAIN_SERVICE names where the login is stored", () => {
    const a = remoteNames(remoteConfig(w.remote.url, {}));
    const b = remoteNames(remoteConfig(w.remote.url, { KEYCHAIN_SERVICE: "work-mcp" }));
    expect(a.token).not.toBe(b.token);
    expect(remoteNames(remoteConfig("http://127.0.0.1:1/other", { KEYCHAIN_SERVICE: "work-mcp" })).token).toBe(b.token);
  });

  it("PORT, BIND: loopback by default; HOST alone never widens it; an explicit non-loopback BIND warns", () => {
    expect(proxyConfig({})).toMatchObject({ port: 5177, bind: "127.0.0.1", redirectPath: "/oauth/callback" });
    const hosted = proxyConfig({ HOST: "0.0.0.0", PUBLIC_BASE_URL: "https://proxy.example.com" });
    expect(hosted.bind).toBe("127.0.0.1");
    expect(hosted.warning).toContain("Ignoring HOST");
    const open = proxyConfig({ BIND: "0.0.0.0", PORT: "8080" });
    expect(open.bind).toBe("0.0.0.0");
    expect(open.warning).toContain("reachable from other machines");
    expect(proxyConfig({ BIND: "::1" }).warning).toBeUndefined();
    expect(() => proxyConfig({ PORT: "http" })).toThrow(/PORT/);
    expect(() => proxyConfig({ REDIRECT_PATH: "https://evil.example/cb" })).toThrow(/REDIRECT_PATH/);
  });

  it("maps /mcp/* onto the upstream URL and /* onto its origin", () => {
    const u = new URL("https://mcp.example.com/v1/mcp");
    expect(upstreamUrl(u, "/mcp", "")).toBe("https://mcp.example.com/v1/mcp");
    expect(upstreamUrl(u, "/mcp/messages", "?a=1")).toBe("https://mcp.example.com/v1/mcp/messages?a=1");
    expect(upstreamUrl(u, "/sse", "")).toBe("https://mcp.example.com/sse");
  });
});

describe.if(canRun)("proxy after a login through /oauth/login", () => {
  let p: Awaited<ReturnType<typeof proxy>>;
  let other: Server;
  const otherSeen: (string | undefined)[] = [];

  beforeAll(async () => {
    p = await proxy({});
    const landed = await w.chromium.signIn(`${p.base}/oauth/login`, `${p.base}/oauth/callback`);
    expect(landed.text).toContain("Signed in");
    other = createServer((req, res) => {
      otherSeen.push(req.headers.authorization);
      res.writeHead(200).end("other origin");
    });
    await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
  }, 60_000);
  afterAll(() => new Promise<void>((r) => other.close(() => r())));

  it("status shows the upstream, endpoints, client id and expiry, never a token", async () => {
    const st = await (await fetch(`${p.base}/oauth/status`)).json();
    expect(st).toMatchObject({ loggedIn: true, issuer: w.idp.issuer, tokenEndpoint: `${w.idp.issuer}/token`, authorizationEndpoint: `${w.idp.issuer}/auth`, clientId: expect.any(String), expiresAt: expect.any(Number), refreshable: true, discoveredVia: "protected resource metadata" });
    const token = (await p.store.get(p.session.names.token))!;
    expect(JSON.stringify(st)).not.toContain(token.value);
    expect(JSON.stringify(st)).not.toContain(token.oauth!.refreshToken!);
    expect((await fetch(`${p.base}/mcp/health`)).status).toBe(200);
  });

  it("a client-sent Authorization header never reaches the upstream; the Mcp-Session-Id passes through", async () => {
    const canary = `CANARY-${randomUUID()}`;
    const before = w.remote.authorizations.length;
    const res = await fetch(`${p.base}/mcp`, { method: "POST", headers: { ...MCP_HEADERS, authorization: `Bearer ${canary}` }, body: INIT });
    expect(res.status).toBe(200);
    const sid = res.headers.get("mcp-session-id");
    expect(sid).toBe(w.remote.sessions.at(-1)!);
    await res.arrayBuffer();
    const seen = w.remote.authorizations.slice(before);
    expect(seen.length).toBeGreaterThan(0);
    for (const h of seen) expect(h).not.toContain(canary);
  });

  it("hop-by-hop headers and the ones the proxy owns stop at the proxy, both ways; the others pass through", async () => {
    const canary = `CANARY-${randomUUID()}`;
    const before = w.remote.requestHeaders.length;
    const res = await raw(
      p.port,
      "/mcp",
      { host: `127.0.0.1:${p.port}`, origin: `http://127.0.0.1:${p.port}`, ...MCP_HEADERS, "content-length": String(Buffer.byteLength(INIT)), "proxy-authorization": `Basic ${canary}`, "keep-alive": "timeout=9", "x-mcb-pass": "yes" },
      "POST",
      INIT,
    );
    expect(res.status).toBe(200);
    const seen = w.remote.requestHeaders.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ "x-mcb-pass": "yes", accept: MCP_HEADERS.accept, "content-type": "application/json" });
    expect(seen[0]!.authorization).toMatch(/^Bearer /);
    for (const h of ["proxy-authorization", "keep-alive", "origin"]) expect(seen[0]![h]).toBeUndefined();
    expect(seen[0]!.host).toBe(new URL(w.remote.url).host);
    expect(JSON.stringify(seen[0])).not.toContain(canary);
    // The upstream (node:http) answers with Connection/Keep-Alive of its own: they describe its
    // connection to the proxy, not the proxy's to the client.
    expect(res.headers["keep-alive"]).toBeUndefined();
    expect(res.headers["mcp-session-id"]).toBe(w.remote.sessions.at(-1));
  });

  it("Host: evil.example and a cross-site Origin get 403", async () => {
    expect((await raw(p.port, "/mcp", { host: "evil.example", ...MCP_HEADERS }, "POST")).status).toBe(403);
    expect((await raw(p.port, "/oauth/status", { host: `evil.example:${p.port}` })).status).toBe(403);
    expect((await raw(p.port, "/mcp", { host: `127.0.0.1:${p.port}`, origin: "http://evil.example", ...MCP_HEADERS }, "POST")).status).toBe(403);
    expect((await raw(p.port, "/oauth/login", { host: `127.0.0.1:${p.port}`, origin: "https://evil.example" })).status).toBe(403);
    expect((await raw(p.port, "/health", { host: `127.0.0.1:${p.port}`, origin: `http://127.0.0.1:${p.port}` })).status).toBe(200);
  });

  it("Fetch Metadata: a request a browser marks cross-site or same-site cannot use or drop the login", async () => {
    const before = w.remote.authorizations.length;
    w.remote.redirects.set("/csrf-probe", "http://127.0.0.1:9/never");
    const host = `127.0.0.1:${p.port}`;
    for (const site of ["cross-site", "same-site"]) {
      for (const [method, path] of [["GET", "/oauth/logout"], ["POST", "/oauth/logout"], ["GET", "/csrf-probe"], ["POST", "/mcp"], ["GET", "/mcp/health"], ["GET", "/oauth/status"]] as const) {
        const res = await raw(p.port, path, { host, "sec-fetch-site": site, ...MCP_HEADERS }, method, method === "POST" ? INIT : undefined);
        expect([site, method, path, res.status]).toEqual([site, method, path, 403]);
        expect(JSON.parse(res.body)).toMatchObject({ error: "forbidden" });
      }
    }
    expect(w.remote.authorizations.length).toBe(before);
    // What a browser sends when the user opens the address itself, or the proxy's own pages; and
    // MCP clients, which send no Fetch Metadata at all.
    for (const site of ["none", "same-origin", undefined]) {
      const res = await raw(p.port, "/csrf-probe", { host, ...(site ? { "sec-fetch-site": site } : {}) });
      expect([site, res.status]).toEqual([site, 307]);
    }
    expect(w.remote.authorizations.length).toBe(before + 3);
    // The provider's redirect back to the callback is a cross-site navigation: it still arrives
    // (and is judged by its state), as does a link that starts a sign-in.
    expect((await raw(p.port, "/oauth/callback?state=unknown&code=x", { host, "sec-fetch-site": "cross-site" })).status).toBe(400);
    expect((await raw(p.port, "/health", { host, "sec-fetch-site": "cross-site" })).status).toBe(200);
    expect(((await (await fetch(`${p.base}/oauth/status`)).json()) as { loggedIn: boolean }).loggedIn).toBe(true);
  });

  it("a hostile page in Chromium cannot log the proxy out or send requests through it", async () => {
    const before = w.remote.authorizations.length;
    w.remote.redirects.set("/csrf-probe", "http://127.0.0.1:9/never");
    const target = `http://127.0.0.1:${p.port}`;
    // Another origin on this machine (as a page on the web would be): images and no-cors fetches
    // need no CORS permission and GETs carry no Origin header — only Sec-Fetch-Site gives them away.
    const page = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () =>
        new Response(
          `<!doctype html><body>hostile page
<img src="${target}/oauth/logout"><img src="${target}/csrf-probe?via=img">
<script>
// A no-cors fetch resolves (opaque) once any server answered, and rejects if the browser did not send it.
const shots = [fetch("${target}/csrf-probe?via=fetch", { mode: "no-cors" }), fetch("${target}/oauth/logout", { mode: "no-cors" })].map((p) => p.then(() => "answered", () => "not sent"));
window.addEventListener("load", () => Promise.all(shots).then((r) => { document.body.append(" " + r.join(" ")); document.body.dataset.done = "1"; }));
</script></body>`,
          { headers: { "content-type": "text/html" } },
        ),
    });
    try {
      // The browser did send the requests (the proxy answered them): the test exercised the proxy.
      expect(await w.chromium.visit(`http://127.0.0.1:${page.port}/`)).toMatch(/hostile page\s+answered answered/);
    } finally {
      page.stop(true);
    }
    expect(w.remote.authorizations.length).toBe(before);
    expect(((await (await fetch(`${p.base}/oauth/status`)).json()) as { loggedIn: boolean }).loggedIn).toBe(true);
  }, 30_000);

  it("an upstream redirect to another origin is handed back without following it: that origin never gets the token", async () => {
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}/steal`;
    w.remote.redirects.set("/bounce", otherUrl);
    const res = await fetch(`${p.base}/bounce`, { redirect: "manual" });
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe(otherUrl);
    expect(otherSeen).toEqual([]);
    // A client following it goes there on its own, without the proxy's token.
    await (await fetch(`${p.base}/bounce`)).text();
    expect(otherSeen).toEqual([undefined]);
  });

  it("an upstream that cannot be reached: 502 naming its origin and the error code, in the answer and the log", async () => {
    const dead = await freePort(); // nothing listens there
    const lines: string[] = [];
    // The same stored login (KEYCHAIN_SERVICE names it), for a server that is down.
    const q = await proxy({ UPSTREAM_MCP_URL: `http://127.0.0.1:${dead}/mcp`, KEYCHAIN_SERVICE: w.remote.url }, p.store, lines);
    const res = await fetch(`${q.base}/mcp`, { method: "POST", headers: MCP_HEADERS, body: INIT });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe("bad_gateway");
    expect(body.error_description).toMatch(new RegExp(`^Could not reach http://127\\.0\\.0\\.1:${dead} \\((ECONNREFUSED|ConnectionRefused)\\)`));
    expect(lines.join("\n")).toContain(`proxy: upstream request failed: Could not reach http://127.0.0.1:${dead}`);
    const token = (await p.store.get(p.session.names.token))!;
    expect(JSON.stringify(body) + lines.join("\n")).not.toContain(token.value);
  });

  it("/oauth/logout forgets the login", async () => {
    const q = await proxy({}, p.store);
    expect(await (await fetch(`${q.base}/oauth/logout`, { method: "POST" })).json()).toEqual({ loggedOut: true });
    expect((await fetch(`${q.base}/mcp`, { method: "POST", headers: MCP_HEADERS, body: INIT })).status).toBe(401);
  });
});
