// The OAuth side of the broker, built once per process on first use (so `serve` starts
// without loading oauth4webapi): login, refresh and logout behind the broker's OAuthPort.
import type { OAuthPort } from "../core/oauth.ts";
import type { OAuthPart, SecretRecord } from "../core/store.ts";
import { login, type LoginDeps } from "./login.ts";
import { loadProviderSettings } from "../core/provider-settings.ts";
import { clientCredentials, isProviderId } from "./providers.ts";
import { TokenRefresher } from "./refresh.ts";
import { revokeAtProvider } from "./revoke.ts";

export type OAuthServiceDeps = Omit<LoginDeps, "clientSecretFor">;

/** Builds the OAuthPort the broker uses; one per process (its refresher is the in-process single-flight). */
export function createOAuthService(base: OAuthServiceDeps): OAuthPort {
  const deps: LoginDeps = {
    ...base,
    async clientSecretFor(provider, clientId) {
      if (!isProviderId(provider)) return undefined;
      const creds = clientCredentials(provider, base.env, await loadProviderSettings(base.store, provider));
      // A secret configured for another client id is not this client's.
      return creds?.clientId === clientId ? creds.clientSecret : undefined;
    },
  };
  const refresher = new TokenRefresher(deps);
  return {
    refresh: (name, record) => refresher.refresh(name, record),
    login: (req, ui) => login(deps, req, ui),
    revoke: (record) => revokeAtProvider(record as SecretRecord & { oauth: OAuthPart }, deps),
  };
}
