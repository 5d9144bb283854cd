// Authorization server metadata: from a preset's explicit endpoints, or discovered from an
// issuer (OpenID Connect Discovery 1.0, then RFC 8414), with every endpoint policy-checked.
import * as oauth from "oauth4webapi";
import { translateOAuthError } from "./errors.ts";
import { requestOptions, type FetchLike } from "./http.ts";
import type { ResolvedProvider, ResponseQuirks } from "./providers.ts";
import { parseSafeUrl } from "./url-policy.ts";

/** Metadata plus whether its `issuer` is a real one we may check `iss` and ID tokens against. */
export interface ServerMetadata {
  as: oauth.AuthorizationServer;
  /** False when the issuer is a stand-in (GitHub, explicit endpoints, Entra multi-tenant). */
  hasIssuer: boolean;
}

const ENDPOINT_FIELDS = ["authorization_endpoint", "token_endpoint", "device_authorization_endpoint", "revocation_endpoint", "userinfo_endpoint"] as const;

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
    const stand = s.issuer ?? new URL(s.token ?? s.authorization ?? "https://invalid.example").origin;
    as = {
      issuer: stand,
      authorization_endpoint: s.authorization,
      token_endpoint: s.token,
      device_authorization_endpoint: s.deviceAuthorization,
      revocation_endpoint: s.revocation,
      userinfo_endpoint: s.userinfo,
    };
  }
  for (const f of ENDPOINT_FIELDS) if (typeof as[f] === "string") parseSafeUrl(as[f], f.replace(/_/g, " "));
  return { as, hasIssuer: s.issuer !== undefined };
}

async function discover(issuer: URL, p: ResolvedProvider, fetch: FetchLike): Promise<oauth.AuthorizationServer> {
  return discoverIssuer(issuer, fetch, ["oidc", "oauth2"], p.preset.quirks);
}

const NO_QUIRKS: ResponseQuirks = { formEncodedResponses: false, errorsWithHttp200: false, dropIdToken: false };

/**
 * Fetches an issuer's metadata trying each well-known document in `order` (`oauth2` is
 * RFC 8414 §3.1, `oidc` is OIDC Discovery §4); the document's issuer must equal `issuer`.
 */
export async function discoverIssuer(issuer: URL, fetch: FetchLike, order: readonly ("oauth2" | "oidc")[], quirks: ResponseQuirks = NO_QUIRKS): Promise<oauth.AuthorizationServer> {
  let lastError: unknown;
  for (const algorithm of order) {
    try {
      const res = await oauth.discoveryRequest(issuer, { algorithm, ...requestOptions(fetch, quirks, issuer) });
      return await oauth.processDiscoveryResponse(issuer, res);
    } catch (e) {
      lastError = e;
    }
  }
  throw translateOAuthError(lastError, "discovery");
}
