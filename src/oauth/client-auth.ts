// How the broker authenticates as an OAuth client at a token endpoint: secrets (RFC 6749 §2.3.1)
// or a signed assertion (RFC 7523 §2.2), as oauth4webapi ClientAuth functions.
import { importPKCS8 } from "jose";
import * as oauth from "oauth4webapi";
import { BrokerError } from "../errors.ts";

export type ClientAuthMethod = "client_secret_post" | "client_secret_basic" | "private_key_jwt" | "none";

/** JWS algorithms taken for private_key_jwt assertions (RFC 7518 §3.1, RFC 8037 §3.1). */
export const PRIVATE_KEY_ALGS = ["ES256", "ES384", "RS256", "PS256", "EdDSA"] as const;
export type PrivateKeyAlg = (typeof PRIVATE_KEY_ALGS)[number];

/** A private key ready to sign client assertions, and the JWS `alg` it signs with. */
export interface SigningKey {
  key: CryptoKey;
  alg: PrivateKeyAlg;
}

/**
 * Picks how a client with a secret authenticates at the token endpoint: none without a secret
 * (a public client, PKCE only); else the method the server lists in
 * token_endpoint_auth_methods_supported, `preference` when it lists both or neither, or gives
 * no list. The presets' servers (GitHub, Google, Entra, Okta) all take client_secret_post and
 * GitHub publishes no metadata, hence post by default; RFC 8414 §2 makes an absent list mean
 * client_secret_basic, which callers talking to arbitrary servers ask for.
 */
export function chooseAuthMethod(
  hasSecret: boolean,
  supported: readonly string[] | undefined,
  preference: "client_secret_post" | "client_secret_basic" = "client_secret_post",
): ClientAuthMethod {
  if (!hasSecret) return "none";
  const other = preference === "client_secret_post" ? "client_secret_basic" : "client_secret_post";
  if (supported && !supported.includes(preference) && supported.includes(other)) return other;
  return preference;
}

/**
 * One credential for the Basic scheme, RFC 6749 §2.3.1: form-urlencoded (Appendix B), done as
 * encodeURIComponent does it. The unreserved characters (A-Z a-z 0-9 - . _ ~) stay as they are,
 * so an id like `pre-registered-client` reaches a server that base64-decodes without
 * form-decoding exactly as registered (oauth4webapi's ClientSecretBasic sends `pre%2Dregistered…`,
 * which such servers reject); `:` (the separator), `%`, `+`, space (as %20, which both form
 * decoders and decodeURIComponent read back) and non-ASCII are percent-encoded, UTF-8.
 */
export function encodeBasicCredential(value: string): string {
  return encodeURIComponent(value);
}

/**
 * client_secret_basic (RFC 6749 §2.3.1, RFC 7617): `Authorization: Basic base64(id:secret)`,
 * each part encoded by encodeBasicCredential.
 */
export function clientSecretBasic(clientSecret: string): oauth.ClientAuth {
  return (_as, client, _body, headers) => {
    const credentials = `${encodeBasicCredential(client.client_id)}:${encodeBasicCredential(clientSecret)}`;
    headers.set("authorization", `Basic ${Buffer.from(credentials, "ascii").toString("base64")}`);
  };
}

/** What a PEM's label says it holds, for a message that never repeats the key itself. */
function pemKind(pem: string): string {
  const label = /-----BEGIN ([A-Z0-9 ]{1,40})-----/.exec(pem)?.[1];
  if (label === undefined) return "not PEM";
  if (label === "EC PRIVATE KEY" || label === "RSA PRIVATE KEY") return `a ${label} (not PKCS #8; convert it with: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem)`;
  if (label === "ENCRYPTED PRIVATE KEY") return "an encrypted key (decrypt it with: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem)";
  if (label === "PRIVATE KEY") return "PKCS #8";
  return `a PEM ${label}`;
}

/**
 * Imports a PEM PKCS #8 private key for signing client assertions with `alg` (default ES256).
 * A key that is not PKCS #8, or does not fit `alg` (a P-384 key for ES256, an RSA key for
 * EdDSA), is a CONFIG_INVALID error whose message says what the file holds, never its content.
 */
export async function importSigningKey(pem: string, alg: PrivateKeyAlg = "ES256"): Promise<SigningKey> {
  if (!PRIVATE_KEY_ALGS.includes(alg)) {
    throw new BrokerError("CONFIG_INVALID", `The signing algorithm is not supported for private_key_jwt; use one of ${PRIVATE_KEY_ALGS.join(", ")}.`);
  }
  try {
    return { key: await importPKCS8(pem, alg), alg };
  } catch {
    const kind = pemKind(pem);
    const what = kind === "PKCS #8" ? `a PKCS #8 key that does not fit ${alg}` : kind;
    throw new BrokerError(
      "CONFIG_INVALID",
      `The private key for private_key_jwt cannot be used: the file holds ${what}. Give a PEM PKCS #8 private key ("BEGIN PRIVATE KEY") matching the signing algorithm ${alg} (--private-key / PRIVATE_KEY_FILE, SIGNING_ALG).`,
    );
  }
}

/**
 * private_key_jwt (RFC 7523 §2.2, OIDC Core §9): a client assertion signed with `signing`.
 * oauth4webapi builds the claims: iss = sub = client_id, aud = the authorization server's
 * issuer exactly as in its metadata, a random jti, iat = nbf = now, exp = now + 60 s.
 */
export function privateKeyJwt(signing: SigningKey): oauth.ClientAuth {
  return oauth.PrivateKeyJwt(signing.key, {
    [oauth.modifyAssertion]: (header) => {
      // oauth4webapi names an Ed25519 key's algorithm "Ed25519" (RFC 9864); servers that list
      // EdDSA (RFC 8037 §3.1) expect that name for the same signature.
      if (signing.alg === "EdDSA") header.alg = "EdDSA";
    },
  });
}

/**
 * The oauth4webapi client object and ClientAuth for `clientId` with `method`. private_key_jwt
 * needs `signing`; without it (a refresh or revocation of a machine login, where only the
 * client id is at hand) the client identifies itself by client_id alone and the server decides.
 */
export function clientFor(clientId: string, clientSecret: string | undefined, method: ClientAuthMethod, signing?: SigningKey): { client: oauth.Client; auth: oauth.ClientAuth } {
  const client: oauth.Client = { client_id: clientId };
  if (method === "private_key_jwt") return { client, auth: signing ? privateKeyJwt(signing) : oauth.None() };
  if (method === "none" || !clientSecret) return { client, auth: oauth.None() };
  return { client, auth: method === "client_secret_basic" ? clientSecretBasic(clientSecret) : oauth.ClientSecretPost(clientSecret) };
}
