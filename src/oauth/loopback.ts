// The OAuth loopback callback server (RFC 8252 §7.3) on Bun.serve: loopback only, Host
// checked, one state accepted once, a static escaped page, and no connection left open.
import { createHash, timingSafeEqual } from "node:crypto";
import type { Server } from "bun";
import { BrokerError } from "../errors.ts";
import { isLoopbackAddress, LOOPBACK_IPV4, loopbackHosts } from "../net/loopback.ts";

/** The original broker's callback port and path, so existing app registrations keep working. */
export const DEFAULT_CALLBACK_PORT = 9876;
export const DEFAULT_CALLBACK_PATH = "/oauth/callback";

/** The loopback redirect URI (RFC 8252 §7.3) a callback server on `port` receives at `path`. */
export function loopbackRedirectUri(port: number, path = DEFAULT_CALLBACK_PATH, host: "localhost" | "127.0.0.1" = LOOPBACK_IPV4): string {
  return `http://${host}:${port}${path}`;
}

/** How the flow wants the browser tab to end: shown on the page, escaped. */
export interface PageOutcome {
  ok: boolean;
  /** One short sentence. */
  message: string;
}

export interface CallbackServerOptions {
  /** The `state` we sent; the only one accepted, once. */
  state: string;
  /** Host named in the redirect URI (the listener is always on loopback addresses). */
  redirectHost: "localhost" | "127.0.0.1";
  /** RFC 8252 §7.3: may we move to an ephemeral port when `port` is taken? */
  allowEphemeralPort: boolean;
  port?: number;
  path?: string;
  /** Reject `result` after this long (default 5 minutes). */
  timeoutMs?: number;
  /** Without ephemeral fallback: how long to wait for a busy port before giving up. */
  portWaitMs?: number;
  signal?: AbortSignal;
}

export interface CallbackServer {
  redirectUri: string;
  port: number;
  /** Resolves with the parameters of the one callback whose state matched. */
  result: Promise<URLSearchParams>;
  /** Shows the outcome on the waiting browser tab (after the code exchange). */
  complete(outcome: PageOutcome): void;
  /** Stops listening and closes every connection, kept-alive ones included. Idempotent. */
  stop(): void;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small static page: no script, no external resource, nothing from the request outside escaped text. */
export function callbackPage(title: string, lines: string[], status: number): Response {
  const body = `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body><h1>${escapeHtml(title)}</h1>\n${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join("\n")}\n</body></html>\n`;
  return new Response(body, {
    status,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      // docs/security.md §Local listeners: nothing on this page may run or load anything.
      "Content-Security-Policy": "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      "Cache-Control": "no-store",
      // Browsers keep loopback connections alive; a later flow on this port must not be
      // answered through this one (the original's bug), so every answer closes it.
      Connection: "close",
    },
  });
}

/** Constant-time string equality (hashing first, so lengths leak nothing either). */
export function constantTimeEqual(a: string, b: string): boolean {
  const h = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(h(a), h(b));
}

function isAddrInUse(e: unknown): boolean {
  return (e as { code?: string })?.code === "EADDRINUSE";
}

type Handler = (req: Request, server: Server<undefined>) => Response | Promise<Response>;

/** Binds 127.0.0.1 (and [::1] when the redirect host is `localhost`, so no other program can take that address instead). */
function listen(port: number, withV6: boolean, fetch: Handler): Server<undefined>[] {
  const v4 = Bun.serve({ hostname: LOOPBACK_IPV4, port, fetch, idleTimeout: 10 });
  if (!withV6) return [v4];
  try {
    return [v4, Bun.serve({ hostname: "::1", port: v4.port, fetch, idleTimeout: 10 })];
  } catch (e) {
    if (isAddrInUse(e)) {
      v4.stop(true);
      throw e;
    }
    // No IPv6 on this machine: `localhost` can only mean 127.0.0.1 here.
    return [v4];
  }
}

/**
 * Starts the callback server. Port `port` (default 9876) first; when it is taken, an
 * ephemeral port if the provider allows any loopback port, else waits up to `portWaitMs`
 * and then fails with CALLBACK_PORT_BUSY — never an unhandled EADDRINUSE, never a hang.
 */
export async function startCallbackServer(opts: CallbackServerOptions): Promise<CallbackServer> {
  const path = opts.path ?? DEFAULT_CALLBACK_PATH;
  const wanted = opts.port ?? DEFAULT_CALLBACK_PORT;
  const withV6 = opts.redirectHost === "localhost";
  const result = Promise.withResolvers<URLSearchParams>();
  const outcome = Promise.withResolvers<PageOutcome>();
  let consumed = false;
  let stopped = false;
  let port = wanted;

  const handle: Handler = async (req, server) => {
    const url = new URL(req.url);
    if (req.method !== "GET" || url.pathname !== path) return callbackPage("Not found", ["This address only receives OAuth sign-in callbacks."], 404);
    // DNS rebinding (docs/security.md §Local listeners): a page on another site that resolves to 127.0.0.1
    // carries its own host name.
    if (!loopbackHosts(port).has(req.headers.get("host") ?? "")) return callbackPage("Wrong host", ["This callback only answers requests addressed to 127.0.0.1 or localhost."], 421);
    if (!isLoopbackAddress(server.requestIP(req)?.address)) return callbackPage("Forbidden", ["Only this machine may call back."], 403);
    const origin = req.headers.get("origin");
    if (origin !== null && origin !== "null" && !loopbackHosts(port).has(origin.replace(/^https?:\/\//, ""))) return callbackPage("Forbidden", ["Cross-site requests are refused."], 403);
    const state = url.searchParams.get("state") ?? "";
    // A callback without our state is someone else's (or forged): refuse it and keep
    // waiting for ours (QwenLM/qwen-code PR #7510: a wrong state must not cancel the flow).
    if (!constantTimeEqual(state, opts.state)) return callbackPage("Sign-in link not recognised", ["This callback does not belong to the sign-in in progress. Start again from the application if needed."], 400);
    if (consumed) return callbackPage("Already used", ["This sign-in callback was already received. You can close this tab."], 400);
    consumed = true;
    result.resolve(new URLSearchParams(url.search));
    const o = await outcome.promise;
    return o.ok
      ? callbackPage("Signed in", [o.message, "You can close this tab and return to your application."], 200)
      : callbackPage("Sign-in failed", [o.message, "You can close this tab."], 400);
  };

  let servers: Server<undefined>[] = [];
  const waitUntil = Date.now() + (opts.portWaitMs ?? 30_000);
  for (;;) {
    if (opts.signal?.aborted) throw new BrokerError("OAUTH_TIMEOUT", "The sign-in was cancelled.");
    try {
      servers = listen(port, withV6, handle);
      break;
    } catch (e) {
      if (!isAddrInUse(e)) throw new BrokerError("IO_ERROR", `Cannot listen on 127.0.0.1:${port} for the OAuth callback (${(e as { code?: string }).code ?? "error"}).`, { cause: e });
      if (opts.allowEphemeralPort && Date.now() < waitUntil) {
        // RFC 8252 §7.3: the authorization server accepts any port on a loopback redirect URI.
        port = 0;
        continue;
      }
      if (Date.now() >= waitUntil) {
        throw new BrokerError(
          "CALLBACK_PORT_BUSY",
          `Port ${wanted} on 127.0.0.1 is in use by another program, and this provider accepts only the registered redirect URI port. Finish or cancel the other sign-in, or free the port (e.g. \`lsof -i :${wanted}\`), then try again.`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  port = servers[0]!.port ?? port;

  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
    // A tab still waiting gets an answer before its connection is closed.
    outcome.resolve({ ok: false, message: "The sign-in ended before this callback was processed." });
    // Let that answer leave, then close every connection, idle kept-alive ones included.
    setTimeout(() => {
      for (const s of servers) s.stop(true);
    }, 50);
    for (const s of servers) void s.stop(false);
    result.reject(new BrokerError("OAUTH_TIMEOUT", "The sign-in was stopped."));
  };
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000;
  const timer = setTimeout(() => {
    result.reject(new BrokerError("OAUTH_TIMEOUT", `No sign-in callback arrived within ${Math.round(timeoutMs / 1000)} s. Run the login again (the browser page may have been closed).`));
    stop();
  }, timeoutMs);
  const onAbort = () => {
    result.reject(new BrokerError("OAUTH_TIMEOUT", "The sign-in was cancelled."));
    stop();
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  // Nobody may be awaiting yet; a rejection before then is not an unhandled one.
  result.promise.catch(() => {});

  return {
    redirectUri: loopbackRedirectUri(port, path, opts.redirectHost),
    port,
    result: result.promise,
    complete: (o) => outcome.resolve(o),
    stop,
  };
}
