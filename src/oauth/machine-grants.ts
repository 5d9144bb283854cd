// Tokens for a machine, with no person at a browser: the client credentials grant (RFC 6749 §4.4)
// and MCP's enterprise-managed authorization, where an identity provider's ID token is exchanged
// for an identity assertion grant (RFC 8693) that the authorization server takes as a JWT bearer
// grant (RFC 7523 §2.1).
import * as oauth from "oauth4webapi";
import { BrokerError } from "../errors.ts";
import { chooseAuthMethod, importSigningKey, type PrivateKeyAlg } from "./client-auth.ts";
import { serverMetadata, standInIssuer, type ServerMetadata } from "./discovery.ts";
import { translateOAuthError } from "./errors.ts";
import type { TokenGrant } from "./authorization-code.ts";
import type { FetchLike } from "./http.ts";
import { grantContext, type GrantClient, type GrantContext } from "./grant-context.ts";
import { NO_QUIRKS, type ResponseQuirks } from "./providers.ts";
import { parseSafeUrl, type SafeUrl } from "./url-policy.ts";

/** The broker's client at the authorization server: a secret, or a private key for private_key_jwt. */
export interface MachineClient {
  clientId: string;
  clientSecret?: string;
  /** PEM PKCS #8 private key and its JWS algorithm (RFC 7523 §2.2); takes precedence over a secret. */
  privateKey?: { pem: string; alg: PrivateKeyAlg };
}

/** The broker's client at the enterprise identity provider, and the user's ID token there. */
export interface IdentityProviderClient {
  tokenEndpoint: string;
  clientId: string;
  clientSecret?: string;
  idToken: string;
}

export interface MachineGrantOptions {
  scopes?: readonly string[];
  /** RFC 8707 resource: the MCP server the token is for. */
  resource?: string;
}

const GRANT_TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const GRANT_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const TOKEN_TYPE_ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token";
const TOKEN_TYPE_ID_JAG = "urn:ietf:params:oauth:token-type:id-jag";

/**
 * No ID token from these responses is used, and the servers need not be OpenID providers whose
 * issuer an ID token could be checked against: drop any rather than fail on it.
 */
const QUIRKS: ResponseQuirks = { ...NO_QUIRKS, dropIdToken: true };

/**
 * The authorization server's checked metadata and its token endpoint (which these grants
 * need): discovery's ServerMetadata as it is, a plain AuthorizationServer checked here, once.
 */
function tokenServer(server: ServerMetadata | oauth.AuthorizationServer): { meta: ServerMetadata; endpoint: SafeUrl } {
  const meta = "endpoints" in server && "as" in server ? (server as ServerMetadata) : serverMetadata(server as oauth.AuthorizationServer, true);
  const endpoint = meta.endpoints.token_endpoint;
  if (!endpoint) {
    throw new BrokerError("OAUTH_INVALID_RESPONSE", "The authorization server's metadata has no token endpoint, so no token can be requested without a browser. Check the server URL or give TOKEN_ENDPOINT.");
  }
  return { meta, endpoint };
}

/**
 * The context of a grant at `as`, authenticated with private_key_jwt when a key is configured
 * (RFC 7523 §2.2), else client_secret_basic or client_secret_post as the server lists them,
 * basic when it lists both or none (RFC 6749 §2.3.1: every server supports it; RFC 8414 §2:
 * the default). `as` is a real authorization server, but no ID token from it is used (QUIRKS).
 */
async function machineContext(meta: ServerMetadata, fetch: FetchLike, c: MachineClient): Promise<GrantContext> {
  const { as } = meta;
  let client: GrantClient;
  if (c.privateKey) {
    client = { clientId: c.clientId, method: "private_key_jwt", signing: await importSigningKey(c.privateKey.pem, c.privateKey.alg) };
  } else {
    const method = chooseAuthMethod(c.clientSecret !== undefined, as.token_endpoint_auth_methods_supported, "client_secret_basic");
    client = { clientId: c.clientId, ...(c.clientSecret !== undefined ? { clientSecret: c.clientSecret } : {}), method };
  }
  return grantContext(fetch, meta, client, QUIRKS);
}

/** `scope` (RFC 6749 §3.3) when scopes are given, plus `extra`. */
function grantParameters(opts: MachineGrantOptions, extra: Record<string, string>): URLSearchParams {
  const params = new URLSearchParams(extra);
  if (opts.scopes && opts.scopes.length > 0) params.set("scope", opts.scopes.join(" "));
  return params;
}

/**
 * Requests a token with the client's own credentials (RFC 6749 §4.4), authenticated with a
 * secret (basic or post, as the server lists) or a private key (RFC 7523 §2.2), for
 * `opts.resource` (RFC 8707 §2) and `opts.scopes` when given. Failures are BrokerErrors that
 * never contain the secret, the key or a token.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 */
export async function clientCredentialsGrant(server: ServerMetadata | oauth.AuthorizationServer, fetch: FetchLike, client: MachineClient, opts: MachineGrantOptions = {}): Promise<TokenGrant> {
  const { meta, endpoint } = tokenServer(server);
  const { as } = meta;
  if (!client.privateKey && client.clientSecret === undefined) {
    // RFC 6749 §4.4: the client credentials grant is for confidential clients only.
    throw new BrokerError("CONFIG_INVALID", "The client credentials grant needs the client to authenticate: give CLIENT_SECRET or CLIENT_SECRET_FILE in the environment (never a flag) or a private key (--private-key / PRIVATE_KEY_FILE).");
  }
  const ctx = await machineContext(meta, fetch, client);
  const params = grantParameters(opts, opts.resource ? { resource: opts.resource } : {});
  try {
    const res = await oauth.clientCredentialsGrantRequest(as, ctx.client, ctx.auth, params, ctx.options(endpoint));
    const tokens = await oauth.processClientCredentialsResponse(as, ctx.client, res);
    return { tokens, authMethod: ctx.authMethod, requestedScopes: [...(opts.scopes ?? [])] };
  } catch (e) {
    throw translateOAuthError(e, "client credentials grant");
  }
}

/**
 * Exchanges the user's ID token at the identity provider for an identity assertion grant
 * (ID-JAG) for `as` and `opts.resource` (RFC 8693 §2.1, with client_id and client_secret in the
 * body), then presents it to `as` as a JWT bearer grant (RFC 7523 §2.1), the broker's client
 * authenticated as in clientCredentialsGrant. Failures name the step and never contain a secret,
 * the ID token or the assertion.
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-identity-assertion-authz-grant/
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.1
 */
export async function crossAppGrant(server: ServerMetadata | oauth.AuthorizationServer, fetch: FetchLike, client: MachineClient, idp: IdentityProviderClient, opts: MachineGrantOptions = {}): Promise<TokenGrant> {
  const { meta, endpoint: asEndpoint } = tokenServer(server);
  const { as } = meta;
  const idpEndpoint = parseSafeUrl(idp.tokenEndpoint, "identity provider's token endpoint");
  // A key that cannot be used fails before the ID token is spent.
  const atAs = await machineContext(meta, fetch, client);

  // oauth4webapi needs an issuer for its checks; the identity provider's is not known here and
  // nothing from its response is compared to it.
  const atIdp = grantContext(
    fetch,
    serverMetadata({ issuer: standInIssuer(idpEndpoint.href), token_endpoint: idpEndpoint.href }, false),
    { clientId: idp.clientId, ...(idp.clientSecret !== undefined ? { clientSecret: idp.clientSecret } : {}), method: idp.clientSecret !== undefined ? "client_secret_post" : "none" },
    QUIRKS,
  );
  const exchange = grantParameters(opts, {
    requested_token_type: TOKEN_TYPE_ID_JAG,
    // The ID-JAG is for this authorization server (its issuer), to be used for this resource.
    audience: as.issuer,
    ...(opts.resource ? { resource: opts.resource } : {}),
    subject_token: idp.idToken,
    subject_token_type: TOKEN_TYPE_ID_TOKEN,
  });
  let assertion: string;
  try {
    const res = await oauth.genericTokenEndpointRequest(atIdp.as, atIdp.client, atIdp.auth, GRANT_TOKEN_EXCHANGE, exchange, atIdp.options(idpEndpoint));
    // RFC 8693 §2.2.1: a token that is not an access token comes with token_type N_A.
    const body = await oauth.processGenericTokenEndpointResponse(atIdp.as, atIdp.client, res, { recognizedTokenTypes: { n_a: () => {} } });
    if (body.issued_token_type !== TOKEN_TYPE_ID_JAG) {
      throw new BrokerError(
        "OAUTH_INVALID_RESPONSE",
        "The identity provider's token exchange answer is not an identity assertion grant (issued_token_type is not urn:ietf:params:oauth:token-type:id-jag). Check that the identity provider supports cross-app access for this client.",
      );
    }
    assertion = body.access_token;
  } catch (e) {
    throw translateOAuthError(e, "token exchange at the identity provider");
  }

  try {
    const res = await oauth.genericTokenEndpointRequest(as, atAs.client, atAs.auth, GRANT_JWT_BEARER, grantParameters(opts, { assertion }), atAs.options(asEndpoint));
    const tokens = await oauth.processGenericTokenEndpointResponse(as, atAs.client, res);
    return { tokens, authMethod: atAs.authMethod, requestedScopes: [...(opts.scopes ?? [])] };
  } catch (e) {
    throw translateOAuthError(e, "JWT bearer grant");
  }
}
