// What went wrong when a request never got an HTTP answer (refused, unresolvable, timed out,
// an untrusted TLS certificate), said so that the user can act: behind a corporate proxy or a
// TLS-inspecting network the fix is an environment variable, not a bug report.

/** TLS verification failures (OpenSSL / BoringSSL codes as Bun and Node report them). */
const TLS_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED", "CERT_REJECTED", "CERT_SIGNATURE_FAILURE", "ERR_TLS_CERT_ALTNAME_INVALID", "HOSTNAME_MISMATCH",
]);

/** An error's `code` when it is a plain identifier (ECONNREFUSED, ENOTFOUND…): safe to show; else null. */
export function networkErrorCode(e: unknown): string | null {
  const raw = (e as { code?: unknown } | null)?.code;
  return typeof raw === "string" && /^[A-Za-z0-9_]{2,64}$/.test(raw) ? raw : null;
}

/**
 * A message for a fetch that failed before any HTTP response, naming `origin` and the error
 * code (codes are fixed identifiers like ECONNREFUSED, never data); null for anything else.
 */
export function fetchFailureMessage(e: unknown, origin: string): string | null {
  if (!(e instanceof Error)) return null;
  if (e.name === "TimeoutError" || e.name === "AbortError") return `${origin} did not answer in time. Check the network and try again.`;
  const code = networkErrorCode(e);
  if (code && TLS_CODES.has(code)) {
    return `The TLS certificate of ${origin} is not trusted (${code}). If your network inspects TLS with its own certificate authority, set NODE_EXTRA_CA_CERTS to that CA's PEM file; otherwise check the URL.`;
  }
  if (code || e instanceof TypeError) {
    return `Could not reach ${origin}${code ? ` (${code})` : ""}. Check the URL and the network; behind a proxy set HTTPS_PROXY (and NO_PROXY for hosts to reach directly).`;
  }
  return null;
}
