// Which URLs the broker may open in a browser or fetch: https:, or http: on a loopback address.
// Pure functions, so the policy is tested as a table (CVE-2025-6514 was a shell injection
// through a server-supplied authorization_endpoint).
import { BrokerError } from "../errors.ts";
import { isLoopbackHostname } from "../net/loopback.ts";

/** Longest URL we accept; authorization URLs with PKCE and a few scopes are far below this. */
export const MAX_URL_LENGTH = 8192;

declare const safeUrlBrand: unique symbol;

/**
 * A URL that passed parseSafeUrl (or was built from one on its own origin by onOrigin). A
 * string from outside — configuration, a metadata document, a stored record, a server's
 * answer — is checked once, where it comes in; code that takes a SafeUrl never parses or
 * checks it again. Readonly: to change one (add query parameters), change a copy.
 */
export type SafeUrl = Readonly<URL> & { readonly [safeUrlBrand]: true };

function refuse(what: string, why: string): BrokerError {
  return new BrokerError("UNSAFE_URL", `Refusing the ${what}: ${why}. Only https: URLs (or http: on 127.0.0.1/localhost) are used. Check the provider's configuration.`);
}

/**
 * Parses `raw` with the WHATWG parser and returns the URL when it may be opened or fetched:
 * `https:`, or `http:` on a loopback host; no user:password part; no whitespace or control
 * characters anywhere (the WHATWG parser would silently drop them, the bypass class of
 * cloudflare/workers-oauth-provider#97). The message names `what` but never echoes `raw`,
 * which may be attacker-controlled.
 */
export function parseSafeUrl(raw: unknown, what: string): SafeUrl {
  if (typeof raw !== "string" || raw.length === 0) throw refuse(what, "it is empty");
  if (raw.length > MAX_URL_LENGTH) throw refuse(what, `it is longer than ${MAX_URL_LENGTH} characters`);
  // biome-ignore lint: control characters and whitespace are exactly what we refuse here
  if (/[\u0000-\u0020\u007f-\u009f\u00a0\u1680\u2000-\u200f\u2028\u2029\u202f\u205f\u3000\ufeff\\]/.test(raw)) {
    throw refuse(what, "it contains whitespace, control characters or a backslash");
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse(what, "it is not a valid absolute URL");
  }
  if (url.username !== "" || url.password !== "") throw refuse(what, "it contains a user name or password");
  if (url.protocol === "https:") return url as SafeUrl;
  if (url.protocol === "http:") {
    if (isLoopbackHostname(url.hostname)) return url as SafeUrl;
    throw refuse(what, "http: is allowed only for loopback addresses");
  }
  throw refuse(what, `the scheme ${JSON.stringify(url.protocol.slice(0, 16))} is not allowed`);
}

/**
 * `path` (with its query) on the origin of `base`: safe because the policy decides on the
 * scheme, the host and the user part, which a path cannot change — unless it is itself an
 * absolute or scheme-relative URL (`//evil.example/x`), which is refused.
 */
export function onOrigin(base: SafeUrl, path: string, what: string): SafeUrl {
  const url = new URL(path, base.origin);
  if (url.origin !== base.origin || url.username !== "" || url.password !== "") throw refuse(what, "it leaves the server's origin");
  return url as SafeUrl;
}

/** The re-serialised href of a safe URL (what is handed to a browser opener, as one argv element). */
export function safeHref(raw: unknown, what: string): string {
  return parseSafeUrl(raw, what).href;
}
