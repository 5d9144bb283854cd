// OAuth 2.0 Protected Resource Metadata (RFC 9728): which authorization servers protect a
// remote MCP server, found from its 401 challenge or its well-known documents.
//
// Why not oauth4webapi's resourceDiscoveryRequest / processResourceDiscoveryResponse (3.8.8):
// - the request builds one location only, the path-inserted one (keeping a trailing slash);
//   MCP authorization (2025-11-25, "Protected Resource Metadata Discovery") asks the
//   challenge's resource_metadata URL first and then the origin's root document, so every
//   candidate would still need our own request beside it;
// - the processing requires `resource` to equal one expected URL exactly (RFC 9728 §3.3 read
//   strictly). Servers name the origin in the path-inserted document, the server URL in the
//   root one, or a path prefix of the server URL; the MCP TypeScript SDK accepts all of these
//   on the same origin, and so does resourceMatches below (its table is pinned by the tests).
//   oauth4webapi's only way past its check is a private symbol (`_nodiscoverycheck`). It also
//   throws on a non-200 or non-JSON answer, where the next candidate must be tried, and reads
//   the body with response.json() (no size cap; ours stops at MAX_METADATA_BYTES while
//   streaming, also pinned by the tests).
import { BrokerError } from "../errors.ts";
import { readBounded, type FetchLike } from "./http.ts";
import { onOrigin, parseSafeUrl, type SafeUrl } from "./url-policy.ts";

export interface ProtectedResource {
  /** RFC 9728 §2 `resource`: the identifier tokens are asked for (RFC 8707). */
  resource: string;
  authorizationServers: string[];
  scopesSupported?: string[];
}

/** Largest metadata document we read. */
const MAX_METADATA_BYTES = 256 * 1024;
/** Each metadata request, body included. */
const METADATA_TIMEOUT_MS = 30_000;

/** What a `WWW-Authenticate: Bearer` challenge says (RFC 6750 §3, RFC 9728 §5.1). */
export interface Challenge {
  /** RFC 9728 §5.1 `resource_metadata`. */
  resourceMetadata?: string;
  /** RFC 6750 §3 `scope`: the scopes this request needs (MCP authorization: scope selection). */
  scope?: string[];
  /** RFC 6750 §3.1 `error` (invalid_token, insufficient_scope, …). */
  error?: string;
}

/** One auth-param of a challenge, quoted or as a token (RFC 9110 §11.2). */
function param(header: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|[\\s,])${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s,]+))`, "i").exec(header);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2];
}

/** Parses the Bearer challenge of a 401 or 403 response; empty when there is none. */
export function parseChallenge(header: string | null): Challenge {
  if (!header) return {};
  const resourceMetadata = param(header, "resource_metadata");
  const scope = param(header, "scope")?.split(" ").filter(Boolean);
  const error = param(header, "error");
  return { ...(resourceMetadata ? { resourceMetadata } : {}), ...(scope && scope.length > 0 ? { scope } : {}), ...(error ? { error } : {}) };
}

/** RFC 9728 §5.1: the `resource_metadata` parameter of a `WWW-Authenticate: Bearer` challenge, if any. */
export function resourceMetadataFromChallenge(header: string | null): string | undefined {
  return parseChallenge(header).resourceMetadata;
}

/**
 * RFC 9728 §3.1 well-known locations for `resource`: the path-inserted one first, then the
 * origin's own (MCP authorization 2025-11-25, "Protected Resource Metadata Discovery"),
 * then `probePath` (an operator-given path on the server's origin).
 */
export function wellKnownCandidates(resource: SafeUrl, probePath?: string): SafeUrl[] {
  const path = resource.pathname === "/" ? "" : resource.pathname.replace(/\/$/, "");
  const what = "protected resource metadata URL";
  const out = [onOrigin(resource, `/.well-known/oauth-protected-resource${path}`, what), onOrigin(resource, "/.well-known/oauth-protected-resource", what)];
  if (probePath) out.push(onOrigin(resource, probePath.startsWith("/") ? probePath : `/${probePath}`, "PROBE_PATH"));
  return out;
}

/**
 * Whether metadata naming `declared` may be used for the server at `server` (RFC 9728 §3.3).
 * The RFC wants the identifier the well-known suffix was inserted into: the server URL for
 * the path-inserted document and the challenge's, its origin for the root document. We take
 * either for every location — the server URL itself, or a path prefix of it on the same
 * origin (the MCP TypeScript SDK's rule) — because servers mix the two up and the token stays
 * bound to the origin that answered us. Another origin, or a path beside ours, is refused: it
 * would send a login for this server to someone else's resource (RFC 9728 §7.3).
 */
export function resourceMatches(declared: string, server: URL): boolean {
  if (!URL.canParse(declared)) return false;
  const d = new URL(declared);
  if (d.origin !== server.origin || d.hash || d.search) return false;
  const dp = d.pathname.replace(/\/$/, "");
  const sp = server.pathname.replace(/\/$/, "");
  return sp === dp || sp.startsWith(`${dp}/`);
}

/** Parses and checks one metadata response; null when it is not a metadata document at all. */
async function parse(res: Response, resource: URL, origin: string): Promise<ProtectedResource | null> {
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => {});
    return null;
  }
  const text = await readBounded(res, MAX_METADATA_BYTES, `The protected resource metadata of ${origin}`, origin);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  if (!doc || typeof doc !== "object" || typeof doc.resource !== "string") return null;
  // RFC 9728 §3.3: metadata naming another resource must not be used (it could send our
  // login for this server to someone else's authorization server).
  if (!resourceMatches(doc.resource, resource)) {
    throw new BrokerError("OAUTH_INVALID_RESPONSE", `The server's protected resource metadata names another resource than ${resource.href}; refusing to use it (RFC 9728 §3.3). Check the server URL.`);
  }
  const servers = Array.isArray(doc.authorization_servers) ? doc.authorization_servers.filter((s): s is string => typeof s === "string") : [];
  const scopes = Array.isArray(doc.scopes_supported) ? doc.scopes_supported.filter((s): s is string => typeof s === "string") : undefined;
  return { resource: doc.resource, authorizationServers: servers, ...(scopes ? { scopesSupported: scopes } : {}) };
}

/**
 * Finds the protected resource metadata of `resource`: the challenge's `resource_metadata`
 * URL when the server sent one, else the well-known candidates; null when none answers.
 * `fetch` is the address-guarded one: every candidate is policy-checked before it is asked.
 */
export async function discoverProtectedResource(resource: SafeUrl, fetch: FetchLike, hints: { metadataUrl?: string; probePath?: string } = {}): Promise<ProtectedResource | null> {
  // The challenge's URL comes from the server's answer: checked here, once. The well-known
  // ones are paths on the server's own (checked) origin.
  const candidates = [...(hints.metadataUrl ? [parseSafeUrl(hints.metadataUrl, "protected resource metadata URL")] : []), ...wellKnownCandidates(resource, hints.probePath)];
  const asked = new Set<string>();
  for (const url of candidates) {
    if (asked.has(url.href)) continue;
    asked.add(url.href);
    const res = await fetch(url.href, { headers: { accept: "application/json" }, redirect: "manual", signal: AbortSignal.timeout(METADATA_TIMEOUT_MS) });
    const found = await parse(res, resource, url.origin);
    if (found) return found;
  }
  return null;
}
