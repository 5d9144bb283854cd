// The oauth4webapi client and its authentication method for a resolved provider.
import * as oauth from "oauth4webapi";

export type ClientAuthMethod = "client_secret_post" | "client_secret_basic" | "none";

/**
 * Picks how the client authenticates at the token endpoint: none without a secret (a public
 * client, PKCE only); else client_secret_post where the server supports it (GitHub, Google,
 * Entra and Okta all do), client_secret_basic when it lists only that (RFC 8414 §2: absent
 * means basic, but the presets' servers all take post).
 */
export function chooseAuthMethod(hasSecret: boolean, supported: readonly string[] | undefined): ClientAuthMethod {
  if (!hasSecret) return "none";
  if (supported && !supported.includes("client_secret_post") && supported.includes("client_secret_basic")) return "client_secret_basic";
  return "client_secret_post";
}

/** The oauth4webapi client object and ClientAuth for `clientId` / `clientSecret`. */
export function clientFor(clientId: string, clientSecret: string | undefined, method: ClientAuthMethod): { client: oauth.Client; auth: oauth.ClientAuth } {
  const client: oauth.Client = { client_id: clientId };
  if (method === "none" || !clientSecret) return { client, auth: oauth.None() };
  return { client, auth: method === "client_secret_basic" ? oauth.ClientSecretBasic(clientSecret) : oauth.ClientSecretPost(clientSecret) };
}
