// When a stored OAuth token must be refreshed, and the "log in again" error. Pure and light:
// the broker core imports this without loading any OAuth library.
import { BrokerError } from "../errors.ts";
import type { SecretRecord } from "./store.ts";

/** docs/security.md §Refresh skew: refresh 60 s before expiry, so a token handed out is good for at least a minute. */
export const REFRESH_SKEW_MS = 60_000;

/**
 * The skew is at most this fraction of the token's lifetime: a token that lives 30 s would
 * otherwise be "about to expire" from the moment it is issued and be refreshed on every
 * call. With 1/4 it is used for three quarters of its life before a refresh (in the spirit
 * of the kubelet, which renews a projected service account token once 80 % of its TTL has
 * passed).
 */
export const MAX_SKEW_FRACTION = 1 / 4;

/**
 * How long before `record` expires it is refreshed: REFRESH_SKEW_MS, or less for a token
 * whose lifetime (from when it was stored, `updatedAt`, to `expiresAt`) is short. A later
 * metadata change moves `updatedAt` on and so only shortens the skew: the token is still
 * refreshed before it expires, and never handed out after (isUnusable).
 */
export function refreshSkewMs(record: SecretRecord): number {
  if (record.expiresAt === undefined) return REFRESH_SKEW_MS;
  const lifetime = record.expiresAt - record.updatedAt;
  return lifetime > 0 ? Math.min(REFRESH_SKEW_MS, lifetime * MAX_SKEW_FRACTION) : REFRESH_SKEW_MS;
}

/** True when `record` is an OAuth token that expires within the skew (or has expired). */
export function needsRefresh(record: SecretRecord, now: number): boolean {
  return record.oauth !== undefined && record.expiresAt !== undefined && record.expiresAt - refreshSkewMs(record) <= now;
}

/** True when `record` is an OAuth token that has expired (handing it out would be useless). */
export function isUnusable(record: SecretRecord, now: number): boolean {
  return record.oauth !== undefined && record.expiresAt !== undefined && record.expiresAt <= now;
}

/** The command that logs in to this record's provider again, under the same name. */
export function loginCommand(name: string, record: SecretRecord): string {
  const target = record.oauth?.provider === "oauth2" && record.oauth.issuer ? record.oauth.issuer : (record.oauth?.provider ?? "<provider>");
  const quoted = /^[A-Za-z0-9._:/@-]+$/.test(name) ? name : `'${name.replace(/'/g, "'\\''")}'`;
  return `\`mcp-credentials-broker login ${target} --name ${quoted}\` (or the start_oauth_flow tool)`;
}

/** LOGIN_REQUIRED for `name`, saying how to log in again. */
export function loginRequired(name: string, record: SecretRecord, why: string): BrokerError {
  return new BrokerError("LOGIN_REQUIRED", `The OAuth token '${name}' ${why}. Log in again with ${loginCommand(name, record)}.`);
}
