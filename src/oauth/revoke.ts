// Token revocation at the provider on logout (RFC 7009), when it has a revocation endpoint.
import * as oauth from "oauth4webapi";
import type { RevocationOutcome } from "../core/oauth.ts";
import type { OAuthPart, SecretRecord } from "../core/store.ts";
import { translateOAuthError } from "./errors.ts";
import { storedLoginContext } from "./grant-context.ts";
import type { RefreshDeps } from "./refresh.ts";

export type { RevocationOutcome } from "../core/oauth.ts";

/**
 * Revokes the refresh token (which, RFC 7009 §2.1, should end the whole grant) and the
 * access token. "unsupported" when the provider has no revocation endpoint (GitHub, Entra);
 * "failed" when it refused or was unreachable — the caller deletes the secret either way.
 */
export async function revokeAtProvider(record: SecretRecord & { oauth: OAuthPart }, deps: RefreshDeps): Promise<RevocationOutcome> {
  const part = record.oauth;
  if (!part.revocationEndpoint) return "unsupported";
  const secret = part.authMethod === "none" ? undefined : await deps.clientSecretFor(part.provider, part.clientId);
  const tokens: [string, string][] = [];
  if (part.refreshToken) tokens.push([part.refreshToken, "refresh_token"]);
  tokens.push([record.value, "access_token"]);
  try {
    // Inside the try: a stored endpoint the URL policy now refuses is a failed revocation
    // (logged), and the logout still deletes the secret.
    const { as, endpoints, client, auth, options } = storedLoginContext(part, secret, deps.fetch);
    for (const [token, hint] of tokens) {
      const res = await oauth.revocationRequest(as, client, auth, token, { additionalParameters: { token_type_hint: hint }, ...options(endpoints.revocation_endpoint!) });
      await oauth.processRevocationResponse(res);
    }
    return "revoked";
  } catch (e) {
    deps.log.warn(`revocation at the provider failed: ${translateOAuthError(e, "revocation").message}`);
    return "failed";
  }
}
