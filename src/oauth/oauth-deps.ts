// What the OAuth modules need from the outside world, passed in (tests swap every part).
import * as oauth from "oauth4webapi";
import type { Clock } from "../core/clock.ts";
import type { LoginUi } from "../core/oauth.ts";
import type { Logger } from "../log.ts";
import type { FetchLike } from "./http.ts";

export interface OAuthDeps {
  /** Every OAuth request goes through this (tests bind it to the 127.0.0.1 fixture). */
  fetch: FetchLike;
  clock: Clock;
  log: Logger;
  /**
   * The provider variables (GITHUB_CLIENT_ID, *_CLIENT_SECRET, OAUTH2_ISSUER, …) and the proxy
   * variables the remote address policy reads: src/config.ts Config.oauthVars, not the whole
   * environment (the browser gets its own typed settings).
   */
  env: Readonly<Record<string, string | undefined>>;
  platform: string;
  /** Random values for state, PKCE verifier and nonce; tests plant canaries here. */
  random?: { state(): string; codeVerifier(): string; nonce(): string };
}

/** How a login talks to the person signing in: the core's port (src/core/oauth.ts). */
export type { LoginUi } from "../core/oauth.ts";

/** A UI that shows nothing (tests, and logins completed by another process). */
export const silentUi: LoginUi = { authorizationUrl() {}, deviceCode() {}, progress() {} };

/** oauth4webapi's generators, unless the deps bring their own. */
export function randomSource(deps: OAuthDeps): NonNullable<OAuthDeps["random"]> {
  return deps.random ?? { state: oauth.generateRandomState, codeVerifier: oauth.generateRandomCodeVerifier, nonce: oauth.generateRandomNonce };
}
