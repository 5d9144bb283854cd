// The OAuth port: what the Broker asks of the OAuth side (log in, refresh, revoke) in the
// core's own terms. src/oauth/oauth-port.ts implements it; a remote MCP server's login
// (src/remote/session.ts) has its own request type and never goes through here.
import type { SecretRecord } from "./store.ts";

/**
 * The OAuth providers with a preset (src/oauth/providers.ts holds one per id, type-checked):
 * the one list start_oauth_flow's schema, the CLI's descriptions and the agent rules name.
 */
export const PROVIDER_IDS = ["github", "google", "azure", "okta", "oauth2"] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];
/** The ids for a sentence: "github, google, azure, okta, or oauth2". */
export const PROVIDER_CHOICES = `${PROVIDER_IDS.slice(0, -1).join(", ")}, or ${PROVIDER_IDS.at(-1)}`;

/** How a login talks to the person signing in: the CLI prints, the MCP tool notifies. */
export interface LoginUi {
  /** The authorization URL is ready; `opened` tells whether a browser was started. */
  authorizationUrl(url: string, opened: boolean, redirectUri: string): void | Promise<void>;
  /** RFC 8628 §3.3: show the user code and where to enter it. */
  deviceCode(info: { verificationUri: string; verificationUriComplete?: string; userCode: string; expiresIn: number }): void | Promise<void>;
  /** A short progress line ("waiting for the browser…"). Never a secret. */
  progress(message: string): void;
}

/**
 * auto: a browser if one can be opened (or the client shows the URL), else the device flow
 * when offered, else wait with the URL shown; browser, device (RFC 8628) or paste (the user
 * types the redirect URL back) on request.
 */
export type LoginMode = "auto" | "browser" | "device" | "paste";

/** Endpoints a caller may give instead of the configured ones: `login --issuer`, or start_oauth_flow's. */
export interface LoginOverrides {
  issuer?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  /** The endpoints come from an agent (start_oauth_flow), not from the user. */
  fromAgent?: boolean;
}

/** A login to a configured provider (`login`, start_oauth_flow), storing the token under `secretName`. */
export interface LoginRequest {
  /** A provider id (PROVIDER_IDS); the OAuth side refuses others with UNKNOWN_PROVIDER. */
  provider: string;
  secretName: string;
  scopes?: string[];
  overrides?: LoginOverrides;
  mode: LoginMode;
  timeoutMs: number;
  /** Loopback callback port. */
  port?: number;
  /** paste mode: redirect URLs typed by the user. */
  pasted?: AsyncIterable<string>;
  /** Shows the URL through the client (MCP URL elicitation); resolves whether it was shown. */
  presentUrl?: (url: string) => Promise<boolean>;
  signal?: AbortSignal;
}

export interface LoginResult {
  record: SecretRecord;
  /** Another broker process finished this login while we waited for it. */
  byOtherProcess: boolean;
  /** How the login happened (for the audit log and messages). */
  method: "browser" | "device" | "paste" | "other-process";
}

/** RFC 7009 revocation at the provider: done, no revocation endpoint, or refused/unreachable. */
export type RevocationOutcome = "revoked" | "unsupported" | "failed";

/** What the core needs from the OAuth modules (src/oauth/oauth-port.ts implements it). */
export interface OAuthPort {
  /** Returns a non-expired record for `name`, refreshing under the lock when within the skew. */
  refresh(name: string, record: SecretRecord): Promise<SecretRecord>;
  login(req: LoginRequest, ui: LoginUi): Promise<LoginResult>;
  /** RFC 7009 revocation of the record's tokens at the provider. */
  revoke(record: SecretRecord): Promise<RevocationOutcome>;
}
