// Authorization server metadata: from a preset's explicit endpoints, or discovered from an
// issuer (OpenID Connect Discovery 1.0, then RFC 8414), with every endpoint policy-checked.
import * as oauth from "oauth4webapi";
import { BrokerError } from "../errors.ts";
import { translateOAuthError } from "./errors.ts";
import { requestOptions, type FetchLike } from "./http.ts";
import { NO_QUIRKS, type ResolvedProvider, type ResponseQuirks } from "./providers.ts";
import { onOrigin, parseSafeUrl, type SafeUrl } from "./url-policy.ts";

/**
 * The issuer given to oauth4webapi (which needs one on every AuthorizationServer) when the real
 * one is not known — GitHub, explicit endpoints, a login stored from such a server: the origin
 * of one of its endpoints. Only a stand-in: `hasIssuer` is false for it, so no `iss` (RFC 9207)
 * or ID token is ever checked against it, and ID tokens are dropped.
 */
export function standInIssuer(endpoint: string | SafeUrl): string {
  return (typeof endpoint === "string" ? new URL(endpoint) : endpoint).origin;
}

const ENDPOINT_FIELDS = ["authorization_endpoint", "token_endpoint", "device_authorization_endpoint", "revocation_endpoint", "userinfo_endpoint", "registration_endpoint"] as const;
export type EndpointField = (typeof ENDPOINT_FIELDS)[number];

/**
 * An authorization server's metadata whose endpoints passed the URL policy once, when it was
 * built (serverMetadata), plus whether its `issuer` is a real one we may check `iss` and ID
 * tokens against.
 */
export interface ServerMetadata {
  /** As oauth4webapi takes it (its functions read the endpoints from here). */
  readonly as: oauth.AuthorizationServer;
  /** False when the issuer is a stand-in (GitHub, explicit endpoints, Entra multi-tenant). */
  readonly hasIssuer: boolean;
  /** `as`'s endpoints, checked: what our requests and the authorization URL are built from. */
  readonly endpoints: Readonly<Partial<Record<EndpointField, SafeUrl>>>;
}

/**
 * The one way to ServerMetadata: every endpoint `as` names passes the URL policy here (an
 * UNSAFE_URL naming the endpoint otherwise), before anything is opened or fetched.
 */
export function serverMetadata(as: oauth.AuthorizationServer, hasIssuer: boolean): ServerMetadata {
  const endpoints: Partial<Record<EndpointField, SafeUrl>> = {};
  for (const f of ENDPOINT_FIELDS) {
    const v = as[f];
    if (typeof v === "string") endpoints[f] = parseSafeUrl(v, f.replace(/_/g, " "));
  }
  return Object.freeze({ as, hasIssuer, endpoints: Object.freeze(endpoints) });
}

/**
 * Returns the provider's authorization server metadata. With `discover`, fetches it from
 * the issuer (RFC 8414 §3.3 / OIDC Discovery §4.3: the document's issuer must equal the one
 * asked for); otherwise builds it from the preset's endpoints.
 */
export async function loadServerMetadata(p: ResolvedProvider, fetch: FetchLike): Promise<ServerMetadata> {
  const s = p.server;
  let as: oauth.AuthorizationServer;
  if (s.discover && s.issuer) {
    const issuer = parseSafeUrl(s.issuer, "issuer");
    as = await discover(issuer, p, fetch);
  } else {
    as = {
      issuer: s.issuer ?? standInIssuer(s.token ?? s.authorization ?? "https://invalid.example"),
      authorization_endpoint: s.authorization,
      token_endpoint: s.token,
      device_authorization_endpoint: s.deviceAuthorization,
      revocation_endpoint: s.revocation,
      userinfo_endpoint: s.userinfo,
    };
  }
  return serverMetadata(as, s.issuer !== undefined);
}

async function discover(issuer: SafeUrl, p: ResolvedProvider, fetch: FetchLike): Promise<oauth.AuthorizationServer> {
  return discoverIssuer(issuer, fetch, ["oidc", "oauth2"], p.preset.quirks);
}

/** A well-known metadata location: RFC 8414 §3.1 (path inserted), OIDC Discovery §4.1 (path
 * appended), or OIDC with the path inserted (the MCP authorization spec's middle choice). */
export type MetadataKind = "oauth2" | "oidc" | "oidc-inserted";

/** The MCP authorization spec's order (2025-11-25, "Authorization Server Metadata Discovery"). */
export const MCP_METADATA_ORDER: readonly MetadataKind[] = ["oauth2", "oidc-inserted", "oidc"];

function insertedOidcUrl(issuer: SafeUrl): SafeUrl {
  const path = issuer.pathname === "/" ? "" : issuer.pathname.replace(/\/$/, "");
  return onOrigin(issuer, `/.well-known/openid-configuration${path}`, "issuer's metadata URL");
}

async function fetchMetadata(issuer: SafeUrl, kind: MetadataKind, fetch: FetchLike, quirks: ResponseQuirks): Promise<Response> {
  const opts = requestOptions(fetch, quirks, issuer);
  if (kind !== "oidc-inserted") return oauth.discoveryRequest(issuer, { algorithm: kind, ...opts });
  const url = insertedOidcUrl(issuer);
  const custom = opts[oauth.customFetch] as unknown as (u: string, init: RequestInit) => Promise<Response>;
  return custom(url.href, { method: "GET", headers: new Headers({ accept: "application/json" }), redirect: "manual" });
}

/**
 * Looks for an issuer's metadata at each well-known location in `order` (locations that
 * coincide for an issuer without a path are asked once). Null when none exists (every
 * answer a non-200): the caller may fall back. A document that exists but cannot be used —
 * another issuer in it (RFC 8414 §3.3: a mix-up or impersonation), not JSON — is the real
 * cause and is thrown, even if a later location only answered 404.
 */
export async function findIssuerMetadata(issuer: SafeUrl, fetch: FetchLike, order: readonly MetadataKind[], quirks: ResponseQuirks = NO_QUIRKS): Promise<oauth.AuthorizationServer | null> {
  let cause: unknown;
  const asked = new Set<string>();
  for (const kind of order) {
    const key = kind === "oidc-inserted" && (issuer.pathname === "/" || issuer.pathname === "") ? "oidc" : kind;
    if (asked.has(key)) continue;
    asked.add(key);
    const res = await fetchMetadata(issuer, kind, fetch, quirks);
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      continue;
    }
    try {
      return await oauth.processDiscoveryResponse(issuer, res);
    } catch (e) {
      cause ??= e;
    }
  }
  if (cause !== undefined) throw translateOAuthError(cause, "discovery");
  return null;
}

/**
 * Fetches an issuer's metadata trying each well-known document in `order` (`oauth2` is
 * RFC 8414 §3.1, `oidc` is OIDC Discovery §4); the document's issuer must equal `issuer`.
 */
export async function discoverIssuer(issuer: SafeUrl, fetch: FetchLike, order: readonly MetadataKind[], quirks: ResponseQuirks = NO_QUIRKS): Promise<oauth.AuthorizationServer> {
  let found: oauth.AuthorizationServer | null;
  try {
    found = await findIssuerMetadata(issuer, fetch, order, quirks);
  } catch (e) {
    throw translateOAuthError(e, "discovery");
  }
  if (!found) {
    throw new BrokerError("OAUTH_INVALID_RESPONSE", `No authorization server metadata was found for ${issuer.href} (RFC 8414 / OpenID Connect Discovery answered with errors). Check the issuer URL, or give the endpoints explicitly.`);
  }
  return found;
}
