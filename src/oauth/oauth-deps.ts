// What the OAuth modules need from the outside world, passed in (tests swap every part).
import * as oauth from "oauth4webapi";
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../log.ts";
import type { FetchLike } from "./http.ts";

export interface OAuthDeps {
  /** Every OAuth request goes through this (tests bind it to the 127.0.0.1 fixture). */
  fetch: FetchLike;
  clock: Clock;
  log: Logger;
  /** Provider variables (GITHUB_CLIENT_ID, OAUTH2_ISSUER, BROWSER, DISPLAY, …). */
  env: Record<string, string | undefined>;
  platform: string;
  /** Random values for state, PKCE verifier and nonce; tests plant canaries here. */
  random?: { state(): string; codeVerifier(): string; nonce(): string };
}

/** How a login talks to the person signing in: the CLI prints, the MCP tool notifies. */
export interface LoginUi {
  /** The authorization URL is ready; `opened` tells whether a browser was started. */
  authorizationUrl(url: string, opened: boolean, redirectUri: string): void | Promise<void>;
  /** RFC 8628 §3.3: show the user code and where to enter it. */
  deviceCode(info: { verificationUri: string; verificationUriComplete?: string; userCode: string; expiresIn: number }): void | Promise<void>;
  /** A short progress line ("waiting for the browser…"). Never a secret. */
  progress(message: string): void;
}

/** A UI that shows nothing (tests, and logins completed by another process). */
export const silentUi: LoginUi = { authorizationUrl() {}, deviceCode() {}, progress() {} };

/** oauth4webapi's generators, unless the deps bring their own. */
export function randomSource(deps: OAuthDeps): NonNullable<OAuthDeps["random"]> {
  return deps.random ?? { state: oauth.generateRandomState, codeVerifier: oauth.generateRandomCodeVerifier, nonce: oauth.generateRandomNonce };
}
