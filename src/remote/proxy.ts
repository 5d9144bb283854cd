// `proxy`: a local, always-authenticated endpoint for a remote MCP server, compatible with
// mcp_auth_proxy (endpoints /health, /, /oauth/status, /oauth/login, REDIRECT_PATH,
// /oauth/logout, /mcp/health, /mcp/*, /*). Bodies stream both ways unbuffered; the
// client's Authorization header is dropped and ours injected; Host and Origin must name
// the proxy itself (DNS rebinding), and a browser's request from another
// site's page is refused (Sec-Fetch-Site: CSRF through the proxy's login; docs/security.md §Local listeners).
import type { Server } from "bun";
import { BrokerError, describeError } from "../errors.ts";
import type { LoginUi } from "../oauth/oauth-deps.ts";
import type { FetchLike } from "../oauth/http.ts";
import { callbackPage, constantTimeEqual, type CallbackServer, type CallbackServerOptions, type PageOutcome } from "../oauth/loopback.ts";
import type { Logger } from "../log.ts";
import { fetchFailureMessage } from "../net-errors.ts";
import { authorizedFetch, NoTokenError, StepUpRequiredError } from "./authorized-fetch.ts";
import type { ProxyConfig } from "./proxy-config.ts";
import type { RemoteSession } from "./session.ts";

/** Hop-by-hop headers (RFC 9110 §7.6.1) and those the proxy owns; never forwarded upstream. */
const HOP_BY_HOP: ReadonlySet<string> = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-authenticate", "host", "authorization", "origin", "content-length"]);
/** The same, minus Content-Length (the upstream's length stays true: bodies pass through as they are), for responses. */
const HOP_BY_HOP_RESPONSE: ReadonlySet<string> = new Set([...HOP_BY_HOP].filter((h) => h !== "content-length"));

export interface ProxyOptions {
  config: ProxyConfig;
  session: RemoteSession;
  /** Upstream fetch (pooled connections). */
  fetch: FetchLike;
  log: Logger;
  loginTimeoutMs: number;
}

export interface RunningProxy {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** One browser login in flight through the proxy's own callback route. */
interface PendingLogin {
  authorizationUrl: Promise<string>;
  state?: string;
  callback?: { result: PromiseWithResolvers<URLSearchParams>; outcome: PromiseWithResolvers<PageOutcome> };
}

function json(status: number, body: unknown, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", "cache-control": "no-store", ...extra } });
}

/** The upstream URL for a request path: /mcp and /mcp/… map onto UPSTREAM_MCP_URL, anything else onto its origin. */
export function upstreamUrl(server: URL, path: string, search: string): string {
  if (path === "/mcp" || path.startsWith("/mcp/")) {
    const rest = path.slice(4);
    const base = server.pathname.replace(/\/$/, "");
    return `${server.origin}${base}${rest}${search || server.search}`;
  }
  return `${server.origin}${path}${search}`;
}

/** Bodies up to this size with a declared length are read whole (a retry after 401 can resend them); others stream. */
const SMALL_BODY_BYTES = 1024 * 1024;

/**
 * The body to send upstream: none for GET/HEAD; a JSON-RPC message with a Content-Length (what
 * MCP clients send) read whole — one write upstream, resendable after a refresh; anything
 * else (chunked, large) streamed through as it arrives.
 */
async function requestBody(req: Request): Promise<ArrayBuffer | ReadableStream<Uint8Array> | null | undefined> {
  if (req.method === "GET" || req.method === "HEAD") return undefined;
  const length = Number(req.headers.get("content-length") ?? Number.NaN);
  if (Number.isInteger(length) && length <= SMALL_BODY_BYTES) return req.arrayBuffer();
  return req.body;
}

export async function startProxy(opts: ProxyOptions): Promise<RunningProxy> {
  const { config, session, log } = opts;
  const base = config.publicBaseUrl.href.replace(/\/$/, "");
  const loginUrl = `${base}/oauth/login`;
  // The request's headers are filtered while authorizedFetch copies them to add the token: one copy per request.
  const upstream = authorizedFetch(session, opts.fetch, { onNoToken: async () => null, drop: HOP_BY_HOP });
  let pending: PendingLogin | null = null;
  /** Scopes the upstream asked for in its last 403 insufficient_scope: the next /oauth/login asks for them. */
  let stepUp: string[] | undefined;

  /** The login's callback arrives at our REDIRECT_PATH instead of a loopback server of its own. */
  const proxyCallback = (p: PendingLogin) => async (o: CallbackServerOptions): Promise<CallbackServer> => {
    const result = Promise.withResolvers<URLSearchParams>();
    const outcome = Promise.withResolvers<PageOutcome>();
    result.promise.catch(() => {});
    p.state = o.state;
    p.callback = { result, outcome };
    const timer = setTimeout(() => result.reject(new BrokerError("OAUTH_TIMEOUT", "No sign-in callback arrived in time. Open /oauth/login again.")), o.timeoutMs ?? opts.loginTimeoutMs);
    return {
      redirectUri: `${base}${config.redirectPath}`,
      port: config.port,
      result: result.promise,
      complete: (out) => outcome.resolve(out),
      stop: () => {
        clearTimeout(timer);
        outcome.resolve({ ok: false, message: "The sign-in ended before this callback was processed." });
      },
    };
  };

  const startLogin = (): PendingLogin => {
    if (pending) return pending;
    const url = Promise.withResolvers<string>();
    const p: PendingLogin = { authorizationUrl: url.promise };
    pending = p;
    const ui: LoginUi = { authorizationUrl() {}, deviceCode() {}, progress: (m) => log.debug(`proxy: ${m}`) };
    const scopes = stepUp;
    session
      .login(ui, {
        ...(scopes ? { scopes } : {}),
        mode: "browser",
        timeoutMs: opts.loginTimeoutMs,
        redirectUri: `${base}${config.redirectPath}`,
        callback: proxyCallback(p),
        presentUrl: async (u) => {
          url.resolve(u);
          return true;
        },
      })
      .then(() => {
        if (stepUp === scopes) stepUp = undefined;
        log.info("proxy: signed in; the token is stored and refreshed automatically");
      })
      .catch((e) => {
        url.reject(e);
        log.warn(`proxy: sign-in failed: ${describeError(e)}`);
      })
      .finally(() => {
        if (pending === p) pending = null;
      });
    url.promise.catch(() => {});
    return p;
  };

  const onCallback = async (url: URL): Promise<Response> => {
    const p = pending;
    if (!p?.callback || !p.state || !constantTimeEqual(url.searchParams.get("state") ?? "", p.state)) {
      return callbackPage("Sign-in link not recognised", ["This callback does not belong to a sign-in in progress. Start again at /oauth/login."], 400);
    }
    const cb = p.callback;
    p.callback = undefined;
    cb.result.resolve(new URLSearchParams(url.search));
    const o = await cb.outcome.promise;
    return o.ok ? callbackPage("Signed in", [o.message, "The proxy is ready; you can close this tab."], 200) : callbackPage("Sign-in failed", [o.message, "You can close this tab."], 400);
  };

  const status = async () => {
    const s = await session.status();
    const d = await session.discover().catch(() => null);
    return {
      ...s,
      proxy: base,
      loginUrl,
      ...(d ? { issuer: s.issuer ?? d.meta.as.issuer, authorizationEndpoint: d.meta.as.authorization_endpoint, tokenEndpoint: s.tokenEndpoint ?? d.meta.as.token_endpoint, registrationEndpoint: d.meta.as.registration_endpoint, discoveredVia: d.via } : {}),
      loginInProgress: pending !== null,
    };
  };

  const forward = async (req: Request, url: URL): Promise<Response> => {
    const target = upstreamUrl(session.cfg.server, url.pathname, url.search);
    let res: Response;
    try {
      res = await upstream(target, {
        method: req.method,
        headers: req.headers,
        body: await requestBody(req),
        signal: req.signal,
        // Bodies pass through as they are: no decompression, no re-encoding.
        decompress: false,
        duplex: "half",
      } as RequestInit);
    } catch (e) {
      if (e instanceof StepUpRequiredError) {
        // RFC 6750 §3.1: the client hears what the upstream said, plus where to sign in with it.
        stepUp = e.scopes;
        return json(403, { error: "insufficient_scope", error_description: `${session.cfg.server.origin} asks for more access (${e.scopes.join(" ")}). Open ${loginUrl} in a browser to sign in with it.`, scope: e.scopes.join(" "), login_url: loginUrl }, { "www-authenticate": `Bearer realm="mcp-credentials-broker", error="insufficient_scope", scope="${e.scopes.join(" ").replace(/["\\]/g, "")}"` });
      }
      if (e instanceof NoTokenError) {
        return json(401, { error: "login_required", error_description: `The proxy is not signed in to ${session.cfg.server.origin}. Open ${loginUrl} in a browser.`, login_url: loginUrl }, { "www-authenticate": `Bearer realm="mcp-credentials-broker", error="invalid_token"` });
      }
      if (req.signal.aborted) return new Response(null, { status: 499 });
      // What went wrong, for the client and the log alike: the origin and an error code (never
      // a header, a body or the path's query), or a broker error's own message.
      const why = e instanceof BrokerError ? e.message : (fetchFailureMessage(e, session.cfg.server.origin) ?? describeError(e));
      log.warn(`proxy: upstream request failed: ${why}`);
      return json(502, { error: "bad_gateway", error_description: why });
    }
    // Copied, then trimmed: fetch() results have immutable headers by the spec (Bun does not
    // enforce it today). A native copy and deletes cost about half of a filtered copy built from JS.
    const out = new Headers(res.headers);
    for (const name of HOP_BY_HOP_RESPONSE) out.delete(name);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
  };

  const handle = async (req: Request): Promise<Response> => {
    // DNS rebinding: a page on another site that resolves to us carries its own host name.
    const host = req.headers.get("host") ?? "";
    if (!config.allowedHosts.has(host)) return json(403, { error: "forbidden", error_description: "Wrong Host header." });
    const origin = req.headers.get("origin");
    if (origin !== null && !(URL.canParse(origin) && config.allowedHosts.has(new URL(origin).host))) return json(403, { error: "forbidden", error_description: "Cross-origin requests are refused." });
    const url = new URL(req.url);
    const path = url.pathname;
    // Fetch Metadata (W3C Fetch Metadata Request Headers §2.1): browsers mark what another
    // site's page asks for. Images, links and no-cors fetches send GETs without an Origin, so
    // this is what stops a page from logging the proxy out or sending requests with its token
    // (CSRF; "same-site" includes any other port on this host). Only the provider's redirect
    // to the callback (judged by its state), a link that starts a sign-in, and /health may
    // come from elsewhere. MCP clients send no Sec-Fetch-Site and are not affected.
    const site = req.headers.get("sec-fetch-site");
    if ((site === "cross-site" || site === "same-site") && !(req.method === "GET" && (path === config.redirectPath || path === "/oauth/login" || path === "/health"))) {
      return json(403, { error: "forbidden", error_description: "Requests from another site's page are refused. Open the proxy's address directly." });
    }
    if (req.method === "GET" && path === "/health") return json(200, { status: "ok" });
    if (req.method === "GET" && path === "/oauth/status") return json(200, await status());
    if (req.method === "GET" && path === "/oauth/login") {
      try {
        const to = await startLogin().authorizationUrl;
        return new Response(null, { status: 302, headers: { location: to, "cache-control": "no-store", "referrer-policy": "no-referrer" } });
      } catch (e) {
        return json(502, { error: "login_failed", error_description: describeError(e) });
      }
    }
    if (req.method === "GET" && path === config.redirectPath) return onCallback(url);
    if ((req.method === "POST" || req.method === "GET") && path === "/oauth/logout") return json(200, { loggedOut: await session.logout() });
    if (req.method === "GET" && path === "/mcp/health") {
      const token = await session.accessToken().catch(() => null);
      return json(token ? 200 : 503, { status: token ? "ok" : "login_required", upstream: session.cfg.server.href, ...(token ? {} : { login_url: loginUrl }) });
    }
    if (req.method === "GET" && path === "/" && !(req.headers.get("accept") ?? "").includes("text/event-stream")) {
      return json(200, { name: "mcp-credentials-broker proxy", upstream: session.cfg.server.href, mcp: `${base}/mcp`, login: loginUrl, status: `${base}/oauth/status` });
    }
    return forward(req, url);
  };

  let server: Server<undefined>;
  try {
    // idleTimeout 0: SSE streams stay open as long as the upstream keeps them.
    server = Bun.serve({ hostname: config.bind, port: config.port, idleTimeout: 0, fetch: handle });
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new BrokerError("IO_ERROR", code === "EADDRINUSE" ? `Port ${config.port} on ${config.bind} is in use. Set PORT (or --port) to another one, or stop the other proxy (\`mcp-credentials-broker proxy stop\`).` : `Cannot listen on ${config.bind}:${config.port} (${code ?? "error"}).`, { cause: e });
  }
  const port = server.port ?? config.port;
  return { url: `http://${config.bind.includes(":") ? `[${config.bind}]` : config.bind}:${port}`, port, stop: () => server.stop(true) };
}
