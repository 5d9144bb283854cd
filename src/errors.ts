// Typed errors with stable codes; every message says what happened and what to do next.

/** Stable error codes: scripts and clients may match on these, so never rename one. */
export type ErrorCode =
  | "INVALID_INPUT"
  | "NOT_FOUND"
  | "REFERENCE_NOT_FOUND"
  | "REFERENCE_USED"
  | "REFERENCE_EXPIRED"
  | "TTL_OUT_OF_RANGE"
  | "UNKNOWN_PROVIDER"
  | "TOKEN_INVALID"
  | "STORE_CORRUPT"
  | "STORE_LOCKED"
  | "STORE_KEY_INVALID"
  | "KEYCHAIN_LOCKED"
  | "KEYCHAIN_DENIED"
  | "BACKEND_UNAVAILABLE"
  | "IO_ERROR"
  | "POLICY_DENIED"
  | "CONSENT_DECLINED"
  | "CONSENT_UNAVAILABLE"
  | "SECRET_EXPIRED"
  | "COMMAND_FAILED"
  | "CONFIG_INVALID"
  | "CONFIG_CONFLICT"
  | "CLIENT_COMMAND_FAILED"
  | "PROVIDER_NOT_CONFIGURED"
  | "UNSAFE_URL"
  | "REMOTE_UNREACHABLE"
  | "OAUTH_ERROR"
  | "OAUTH_INVALID_RESPONSE"
  | "OAUTH_TIMEOUT"
  | "CALLBACK_PORT_BUSY"
  | "LOGIN_REQUIRED"
  | "INTERNAL";

/** An error the user can act on. Its message never contains a secret value or a token. */
export class BrokerError extends Error {
  override readonly name = "BrokerError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `e` is a BrokerError, optionally with the given code. */
export function isBrokerError(e: unknown, code?: ErrorCode): e is BrokerError {
  return e instanceof BrokerError && (code === undefined || e.code === code);
}

/**
 * A message safe to show for any thrown value: a BrokerError's own message, else a
 * generic one. Unknown errors may embed inputs (paths, values), so they are not echoed.
 */
export function describeError(e: unknown): string {
  if (e instanceof BrokerError) return e.message;
  return "Internal error in the broker. Run `mcp-credentials-broker status` and report the issue if it persists.";
}
