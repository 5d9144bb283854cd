// When a stored OAuth token must be refreshed, and the "log in again" error. Pure and light:
// the broker core imports this without loading any OAuth library.
import { BrokerError } from "../errors.ts";
import type { SecretRecord } from "../store/store.ts";

/** DESIGN.md: refresh 60 s before expiry, so a token handed out is good for at least a minute. */
export const REFRESH_SKEW_MS = 60_000;

/** True when `record` is an OAuth token that expires within the skew (or has expired). */
export function needsRefresh(record: SecretRecord, now: number): boolean {
  return record.oauth !== undefined && record.expiresAt !== undefined && record.expiresAt - REFRESH_SKEW_MS <= now;
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
