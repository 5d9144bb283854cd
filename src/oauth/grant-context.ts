// The one place an OAuth grant's context is built — for a login (code and device flows),
// a stored login's refresh and revocation, and a machine's grants: the authorization server,
// the client and how it authenticates (client-auth.ts), and the options every request to the
// server is sent with (http.ts: URL policy on every hop, bounded reads, the provider's
// response quirks).
import type * as oauth from "oauth4webapi";
import type { OAuthPart } from "../core/store.ts";
import { chooseAuthMethod, clientFor, type ClientAuthMethod, type SigningKey } from "./client-auth.ts";
import type { ServerMetadata } from "./discovery.ts";
import { requestOptions, type FetchLike, type TransportOptions } from "./http.ts";
import { quirksOf, type ResolvedProvider, type ResponseQuirks } from "./providers.ts";
import { storedServer } from "./token-record.ts";
import type { SafeUrl } from "./url-policy.ts";

/** Everything oauth4webapi's grant and revocation functions take besides the grant's own parameters. */
export interface GrantContext {
  readonly as: oauth.AuthorizationServer;
  /** `as`'s endpoints, checked once (ServerMetadata): what `options` is called with. */
  readonly endpoints: ServerMetadata["endpoints"];
  readonly client: oauth.Client;
  readonly auth: oauth.ClientAuth;
  /** How the client authenticates (stored with a login, for its refresh). */
  readonly authMethod: ClientAuthMethod;
  /** oauth4webapi request options for a request to `endpoint`. */
  options(endpoint: SafeUrl): TransportOptions;
}

/** Who the broker is at the server: a client id, and a secret or a signing key for `method`. */
export interface GrantClient {
  clientId: string;
  clientSecret?: string;
  method: ClientAuthMethod;
  /** private_key_jwt (RFC 7523 §2.2); without it such a client sends its client_id alone. */
  signing?: SigningKey;
}

/**
 * The context for requests to `meta.as` as `c`, with the provider's response `quirks`. Without
 * a real issuer (`hasIssuer` false: a stand-in) an ID token cannot be checked against it
 * (OIDC Core §3.1.3.7), and none is used: it is dropped before oauth4webapi sees it.
 */
export function grantContext(fetch: FetchLike, meta: ServerMetadata, c: GrantClient, quirks: ResponseQuirks): GrantContext {
  const { client, auth } = clientFor(c.clientId, c.clientSecret, c.method, c.signing);
  const q = meta.hasIssuer ? quirks : { ...quirks, dropIdToken: true };
  return { as: meta.as, endpoints: meta.endpoints, client, auth, authMethod: c.method, options: (endpoint) => requestOptions(fetch, q, endpoint) };
}

/**
 * A user's login (authorization code or device flow) with provider `p`: a public client
 * without a secret, else the method the server lists (client_secret_post by default, see
 * chooseAuthMethod).
 */
export function loginContext(p: ResolvedProvider, meta: ServerMetadata, fetch: FetchLike): GrantContext {
  const method = chooseAuthMethod(p.clientSecret !== undefined, meta.as.token_endpoint_auth_methods_supported);
  return grantContext(fetch, meta, { clientId: p.clientId, ...(p.clientSecret !== undefined ? { clientSecret: p.clientSecret } : {}), method }, p.preset.quirks);
}

/**
 * A stored login's refresh (RFC 6749 §6) or revocation (RFC 7009), at the server it came from
 * only (issuer binding), authenticated as at login when the client's secret is still at hand,
 * else as a public client.
 */
export function storedLoginContext(part: OAuthPart, clientSecret: string | undefined, fetch: FetchLike): GrantContext {
  const method = clientSecret ? part.authMethod : "none";
  return grantContext(fetch, storedServer(part), { clientId: part.clientId, ...(clientSecret ? { clientSecret } : {}), method }, quirksOf(part.provider));
}
