// Requests to the remote MCP server with the bearer token injected (RFC 6750 §2.1): the
// caller's own Authorization header is dropped; without a token the request goes out as it
// is (a server that needs no sign-in just works) and the first 401 starts one; a 401 to a
// token leads to one refresh (or a token another process stored) and one retry; a 403
// insufficient_scope to a sign-in with the scopes the server named (step-up, bounded);
// redirects are followed only within the server's origin — a token never leaves it.
import type { FetchLike } from "../oauth/http.ts";
import type { RemoteSession } from "./session.ts";

/** Redirect hops followed within the server's origin. */
const MAX_SAME_ORIGIN_REDIRECTS = 3;
/** Sign-ins with more scopes for one request (MCP authorization: clients bound step-up retries). */
export const MAX_STEP_UPS = 2;

type BodyInit = NonNullable<RequestInit["body"]>;

export interface AuthorizedFetchOptions {
  /** Called when the server wants a token and there is no usable one: `connect` logs in here; the proxy answers 401. */
  onNoToken(): Promise<string | null>;
  /** Called after 403 insufficient_scope with the scopes to sign in with: `connect` logs in again; the proxy answers 403. */
  onStepUp?(scopes: string[]): Promise<string | null>;
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

/** Thrown when the server wants more scopes and no sign-in with them happened here: the proxy's 403. */
export class StepUpRequiredError extends Error {
  override readonly name = "StepUpRequiredError";
  constructor(readonly scopes: string[]) {
    super("the server asks for more scopes");
  }
}

/** A copy of the caller's headers (never the caller's object: it does not get to hold the token) with ours in place of theirs. */
function withToken(init: RequestInit | undefined, token: string | null, body: BodyInit | null | undefined, drop: ReadonlySet<string> | undefined): RequestInit {
  // A native copy and a dozen deletes cost about half of a filtered copy built from JS.
  const headers = new Headers(init?.headers);
  if (drop) for (const name of drop) headers.delete(name);
  if (token) headers.set("authorization", `Bearer ${token}`);
  else headers.delete("authorization");
  return { ...init, headers, body, redirect: "manual" };
}

/** A body that can be sent twice (a retry after 401): strings as they are, streams teed. */
function replayable(body: BodyInit | null | undefined): { first: BodyInit | null | undefined; again(): BodyInit | null | undefined; discard(): void } {
  if (body instanceof ReadableStream) {
    // A copy is kept for every resend (a refresh, then step-ups) until the request is done.
    let [first, rest] = body.tee();
    return {
      first,
      again: () => {
        const [now, later] = rest.tee();
        rest = later;
        return now;
      },
      discard: () => void rest.cancel().catch(() => {}),
    };
  }
  return { first: body, again: () => body, discard() {} };
}

export function authorizedFetch(session: RemoteSession, base: FetchLike, opts: AuthorizedFetchOptions): FetchLike {
  const origin = session.cfg.server.origin;
  const drop = opts.drop;
  const send = async (url: string, init: RequestInit | undefined, token: string | null, body: BodyInit | null | undefined): Promise<Response> => {
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
  /** A token from the machine's own credentials, or the caller's sign-in. */
  const signIn = async (): Promise<string | null> => (session.machine ? (await session.machineLogin()).value : opts.onNoToken());
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    // No token yet: the request goes as it is; only a 401 says a sign-in is needed.
    let token = await session.accessToken();
    const body = replayable(init?.body);
    let res = await send(url, init, token, body.first);
    if (res.status === 401) {
      session.noteChallenge(res.headers.get("www-authenticate"), 401);
      await res.body?.cancel().catch(() => {});
      token = (token ? await session.afterUnauthorized(token) : null) ?? (await signIn());
      if (!token) {
        body.discard();
        throw new NoTokenError("the server asks for a sign-in and no token could be had");
      }
      res = await send(url, init, token, body.again());
    }
    // RFC 6750 §3.1: 403 insufficient_scope names the scopes this request needs.
    for (let step = 0; step < MAX_STEP_UPS && res.status === 403 && token; step++) {
      const header = res.headers.get("www-authenticate");
      if (!/insufficient_scope/i.test(header ?? "")) break;
      session.noteChallenge(header, 403);
      const scopes = session.stepUpScopes();
      if (!scopes) break;
      if (!session.machine && !opts.onStepUp) {
        await res.body?.cancel().catch(() => {});
        body.discard();
        throw new StepUpRequiredError(scopes);
      }
      const next = session.machine ? (await session.machineLogin(scopes)).value : await opts.onStepUp!(scopes);
      if (!next) break;
      await res.body?.cancel().catch(() => {});
      token = next;
      res = await send(url, init, token, body.again());
    }
    body.discard();
    return res;
  };
}
