// Requests to the remote MCP server with the bearer token injected (RFC 6750 §2.1): the
// caller's own Authorization header is dropped, a 401 leads to one refresh (or a token
// another process stored) and one retry, and redirects are followed only within the
// server's origin — a token is never sent to another origin.
import type { FetchLike } from "../oauth/http.ts";
import type { RemoteSession } from "./session.ts";

/** Redirect hops followed within the server's origin. */
const MAX_SAME_ORIGIN_REDIRECTS = 3;

type BodyInit = NonNullable<RequestInit["body"]>;

export interface AuthorizedFetchOptions {
  /** Called when there is no usable token: `connect` logs in here; the proxy answers 401. */
  onNoToken(): Promise<string | null>;
  /**
   * Header names (lower case) left out of the copy that carries the token, besides
   * Authorization: the proxy names the hop-by-hop ones here, so a request's headers are
   * copied once rather than filtered by the proxy and copied again here.
   */
  drop?: ReadonlySet<string>;
}

/** Thrown (as a value) when no token can be had: the proxy turns it into its own 401. */
export class NoTokenError extends Error {
  override readonly name = "NoTokenError";
}

/** A copy of the caller's headers (never the caller's object: it does not get to hold the token) with ours in place of theirs. */
function withToken(init: RequestInit | undefined, token: string, body: BodyInit | null | undefined, drop: ReadonlySet<string> | undefined): RequestInit {
  // A native copy and a dozen deletes cost about half of a filtered copy built from JS.
  const headers = new Headers(init?.headers);
  if (drop) for (const name of drop) headers.delete(name);
  headers.set("authorization", `Bearer ${token}`);
  return { ...init, headers, body, redirect: "manual" };
}

/** A body that can be sent twice (a retry after 401): strings as they are, streams teed. */
function replayable(body: BodyInit | null | undefined): { first: BodyInit | null | undefined; again(): BodyInit | null | undefined; discard(): void } {
  if (body instanceof ReadableStream) {
    const [a, b] = body.tee();
    return { first: a, again: () => b, discard: () => void b.cancel().catch(() => {}) };
  }
  return { first: body, again: () => body, discard() {} };
}

export function authorizedFetch(session: RemoteSession, base: FetchLike, opts: AuthorizedFetchOptions): FetchLike {
  const origin = session.cfg.server.origin;
  const drop = opts.drop;
  const send = async (url: string, init: RequestInit | undefined, token: string, body: BodyInit | null | undefined): Promise<Response> => {
    let target = url;
    let res = await base(target, withToken(init, token, body, drop));
    for (let hop = 0; hop < MAX_SAME_ORIGIN_REDIRECTS && res.status >= 300 && res.status < 400; hop++) {
      const location = res.headers.get("location");
      if (!location) break;
      const next = new URL(location, target);
      // Another origin never sees the token: the redirect goes back to the caller as it is.
      if (next.origin !== origin) break;
      // RFC 9110 §15.4: 307/308 keep method and body; the rest become a GET.
      if ((res.status !== 307 && res.status !== 308) || (body !== undefined && body !== null && typeof body !== "string")) break;
      await res.body?.cancel();
      target = next.href;
      res = await base(target, withToken(init, token, body, drop));
    }
    return res;
  };
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const token = (await session.accessToken()) ?? (await opts.onNoToken());
    if (!token) throw new NoTokenError("not logged in");
    const body = replayable(init?.body);
    const res = await send(url, init, token, body.first);
    if (res.status !== 401) {
      body.discard();
      return res;
    }
    session.noteChallenge(res.headers.get("www-authenticate"));
    await res.body?.cancel();
    const next = (await session.afterUnauthorized(token)) ?? (await opts.onNoToken());
    if (!next) {
      body.discard();
      throw new NoTokenError("the server refused the token and no new one could be had");
    }
    return send(url, init, next, body.again());
  };
}
