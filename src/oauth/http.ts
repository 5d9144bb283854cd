// The one door through which OAuth code reaches the network: the URL policy on every request,
// the injected fetch (tests bind it to 127.0.0.1), and each provider's response quirks
// normalised into what RFC 6749 §5.1/§5.2 responses look like.
import * as oauth from "oauth4webapi";
import { BrokerError } from "../errors.ts";
import { fetchFailureMessage } from "../net-errors.ts";
import type { ResponseQuirks } from "./providers.ts";
import { isLoopbackUrl } from "../net/loopback.ts";
import { onOrigin, type SafeUrl } from "./url-policy.ts";

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Largest OAuth response body we read (token responses are a few KiB). */
const MAX_BODY_BYTES = 1024 * 1024;
/** No OAuth request may hang the broker. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Reads a response body as text, at most `max` bytes: a larger (or endless) body is cancelled
 * as soon as it passes the cap, and a body that stops arriving ends with the request's own
 * timeout. Both are BrokerErrors naming `what`, never "Internal error".
 */
export async function readBounded(res: Response, max: number, what: string, origin = "the server"): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        await reader.cancel().catch(() => {});
        throw new BrokerError("OAUTH_INVALID_RESPONSE", `${what} is larger than ${Math.round(max / 1024)} KiB; refusing to read it. Check the server URL.`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof BrokerError) throw e;
    const message = fetchFailureMessage(e, origin);
    throw message ? new BrokerError("REMOTE_UNREACHABLE", `${what}: ${message}`, { cause: e }) : e;
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** `res` with its body cut off (an error) past `max` bytes, for readers we do not own (oauth4webapi). */
export function boundedResponse(res: Response, max: number): Response {
  if (!res.body) return res;
  let size = 0;
  const cap = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      size += chunk.byteLength;
      if (size > max) controller.error(new BrokerError("OAUTH_INVALID_RESPONSE", `An OAuth response was larger than ${Math.round(max / 1024)} KiB; refusing to read it.`));
      else controller.enqueue(chunk);
    },
  });
  const out = new Response(res.body.pipeThrough(cap), { status: res.status, statusText: res.statusText, headers: res.headers });
  // oauth4webapi reads `url` for messages and checks; keep the original's.
  Object.defineProperty(out, "url", { value: res.url });
  return out;
}

/**
 * Rewrites a provider's non-conforming response into a conforming one: form-encoded bodies
 * become JSON (GitHub answers `application/x-www-form-urlencoded` unless asked for JSON),
 * errors reported with HTTP 200 get HTTP 400 (RFC 6749 §5.2), and Entra's multi-tenant ID
 * tokens, whose `iss` names the user's tenant, are dropped (we do not use them).
 */
export async function normaliseResponse(res: Response, quirks: ResponseQuirks): Promise<Response> {
  if (!quirks.formEncodedResponses && !quirks.errorsWithHttp200 && !quirks.dropIdToken) return res;
  const type = res.headers.get("content-type") ?? "";
  const text = await res.text();
  if (text.length > MAX_BODY_BYTES) return new Response(null, { status: 502 });
  let body: unknown;
  if (quirks.formEncodedResponses && type.includes("application/x-www-form-urlencoded")) {
    const form = new URLSearchParams(text);
    const obj: Record<string, string | number> = {};
    for (const [k, v] of form) obj[k] = /^(expires_in|refresh_token_expires_in|interval)$/.test(k) && /^\d+$/.test(v) ? Number(v) : v;
    body = obj;
  } else {
    try {
      body = JSON.parse(text);
    } catch {
      return new Response(text, { status: res.status, headers: res.headers });
    }
  }
  let status = res.status;
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const o = body as Record<string, unknown>;
    if (quirks.errorsWithHttp200 && status === 200 && typeof o.error === "string") status = 400;
    if (quirks.dropIdToken) delete o.id_token;
  }
  const headers = new Headers(res.headers);
  headers.set("content-type", "application/json");
  headers.delete("content-length");
  headers.delete("content-encoding");
  return new Response(JSON.stringify(body), { status, headers });
}

/** The transport part of oauth4webapi's options, usable with every request function. */
// biome-ignore lint: oauth4webapi types customFetch per method and body; ours serves them all
export type TransportOptions = Pick<oauth.HttpRequestOptions<any, any>, typeof oauth.customFetch | typeof oauth.allowInsecureRequests>;

/**
 * Builds oauth4webapi request options for `target`: our fetch (policy-checked, quirks
 * normalised) as `customFetch`, and `allowInsecureRequests` only when `target` is a loopback
 * http: URL — oauth4webapi refuses http: otherwise, which is what we want everywhere else.
 */
export function requestOptions(baseFetch: FetchLike, quirks: ResponseQuirks, target: SafeUrl): TransportOptions {
  const customFetch = async (u: string, init: oauth.CustomFetchOptions<"GET" | "POST", unknown>): Promise<Response> => {
    // oauth4webapi asks for `target` itself, or for a URL it derived from it (a well-known
    // document on the issuer's origin); anything off that origin is refused, not contacted.
    const checked = u === target.href ? target : onOrigin(target, u, "OAuth endpoint");
    const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) : AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const res = await baseFetch(checked.href, { ...(init as RequestInit), redirect: "manual", signal });
    return normaliseResponse(boundedResponse(res, MAX_BODY_BYTES), quirks);
  };
  return {
    [oauth.customFetch]: customFetch as never,
    [oauth.allowInsecureRequests]: target.protocol === "http:" && isLoopbackUrl(target),
  };
}
