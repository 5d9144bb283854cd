// OAuth 2.0 Protected Resource Metadata (RFC 9728): which authorization servers protect a
// remote MCP server, found from its 401 challenge or its well-known documents.
import { BrokerError } from "../errors.ts";
import type { FetchLike } from "./http.ts";
import { parseSafeUrl } from "./url-policy.ts";

export interface ProtectedResource {
  /** RFC 9728 §2 `resource`, checked equal to the server URL. */
  resource: string;
  authorizationServers: string[];
  scopesSupported?: string[];
}

/** Largest metadata document we read. */
const MAX_METADATA_BYTES = 256 * 1024;

/** RFC 9728 §5.1: the `resource_metadata` parameter of a `WWW-Authenticate: Bearer` challenge, if any. */
export function resourceMetadataFromChallenge(header: string | null): string | undefined {
  if (!header) return undefined;
  const m = /(?:^|[\s,])resource_metadata\s*=\s*(?:"([^"]*)"|([^\s,]+))/i.exec(header);
  return m ? (m[1] ?? m[2]) : undefined;
}

/**
 * RFC 9728 §3.1 well-known locations for `resource`: the path-inserted one first, then the
 * origin's own, then `probePath` (an operator-given path on the server's origin).
 */
export function wellKnownCandidates(resource: URL, probePath?: string): string[] {
  const path = resource.pathname === "/" ? "" : resource.pathname.replace(/\/$/, "");
  const out = [`${resource.origin}/.well-known/oauth-protected-resource${path}`, `${resource.origin}/.well-known/oauth-protected-resource`];
  if (probePath) out.push(new URL(probePath.startsWith("/") ? probePath : `/${probePath}`, resource.origin).href);
  return [...new Set(out)];
}

/** Identifiers compared as RFC 9728 §3.3 asks (exactly), forgiving only a trailing slash. */
function sameResource(a: string, b: string): boolean {
  return a.replace(/\/$/, "") === b.replace(/\/$/, "");
}

/** Parses and checks one metadata response; null when it is not a metadata document at all. */
async function parse(res: Response, resource: URL): Promise<ProtectedResource | null> {
  if (res.status !== 200) {
    await res.body?.cancel();
    return null;
  }
  const text = await res.text();
  if (text.length > MAX_METADATA_BYTES) return null;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  if (!doc || typeof doc !== "object" || typeof doc.resource !== "string") return null;
  // RFC 9728 §3.3: metadata naming another resource must not be used (it could send our
  // login for this server to someone else's authorization server).
  if (!sameResource(doc.resource, resource.href)) {
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
export async function discoverProtectedResource(resource: URL, fetch: FetchLike, hints: { metadataUrl?: string; probePath?: string } = {}): Promise<ProtectedResource | null> {
  const candidates = [...(hints.metadataUrl ? [hints.metadataUrl] : []), ...wellKnownCandidates(resource, hints.probePath)];
  for (const raw of candidates) {
    const url = parseSafeUrl(raw, "protected resource metadata URL");
    const res = await fetch(url.href, { headers: { accept: "application/json" }, redirect: "manual", signal: AbortSignal.timeout(30_000) });
    const found = await parse(res, resource);
    if (found) return found;
  }
  return null;
}
