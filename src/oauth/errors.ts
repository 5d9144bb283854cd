// Translates oauth4webapi's errors into BrokerErrors, once, at the adapter edge. Provider
// error bodies can echo anything (codes, secrets, HTML), so only well-known error codes are
// ever repeated, and never an error_description, URL or body.
import * as oauth from "oauth4webapi";
import { BrokerError } from "../errors.ts";
import { fetchFailureMessage } from "../net-errors.ts";

/** Error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 8628 §3.5, OIDC Core §3.1.2.6, RFC 7009 and GitHub's. */
const KNOWN_ERRORS = new Set([
  "invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type", "invalid_scope",
  "server_error", "temporarily_unavailable", "invalid_client", "invalid_grant", "unsupported_grant_type",
  "authorization_pending", "slow_down", "expired_token", "interaction_required", "login_required",
  "account_selection_required", "consent_required", "invalid_request_uri", "invalid_request_object",
  "request_not_supported", "request_uri_not_supported", "registration_not_supported", "invalid_target",
  "unsupported_token_type", "bad_verification_code", "incorrect_client_credentials", "redirect_uri_mismatch",
  "incorrect_device_code", "device_flow_disabled", "application_suspended", "bad_refresh_token",
]);

/** Refresh failures after which only a new login helps (RFC 6749 §5.2; GitHub's own code). */
const TERMINAL_ON_REFRESH = new Set(["invalid_grant", "bad_refresh_token"]);

/** A provider's `error` code, when it is one we know; else a neutral word (it may hold anything). */
export function safeErrorCode(code: unknown): string {
  return typeof code === "string" && KNOWN_ERRORS.has(code) ? code : "an unrecognised error";
}

/** What the caller was doing, for the message. */
export type OAuthStep =
  | "discovery" | "authorization" | "code exchange" | "device authorization" | "device polling" | "refresh" | "revocation" | "client registration"
  | MachineStep;

/** The steps of the grants without a user at a browser (RFC 6749 §4.4; RFC 8693 then RFC 7523 §2.1). */
export type MachineStep = "client credentials grant" | "token exchange at the identity provider" | "JWT bearer grant";

/** Hints for the machine grants, whose credentials come from the configuration, not a sign-in. */
function machineHint(code: string, step: MachineStep): string | null {
  const idp = step === "token exchange at the identity provider";
  switch (code) {
    case "invalid_client":
    case "unauthorized_client":
      return idp
        ? "Check the identity provider client (IDP_CLIENT_ID / IDP_CLIENT_SECRET) and that it may use token exchange."
        : "Check the client credentials (CLIENT_ID with CLIENT_SECRET or the private key) and that this client may use this grant.";
    case "invalid_grant":
      if (idp) return "The identity provider refused the ID token (expired, or issued for another client). Get a fresh one (IDP_ID_TOKEN) and try again.";
      if (step === "JWT bearer grant") return "The authorization server refused the identity assertion (expired, or issued for another server, resource or client). Check that the identity provider knows this client and server, then try again.";
      return "The authorization server refused to issue a token to this client. Check its permissions at the server.";
    case "unsupported_grant_type":
      return idp ? "This identity provider does not offer token exchange for ID tokens." : `This authorization server does not offer the ${step}; it may need a browser sign-in instead.`;
    case "invalid_target":
      return "The server does not accept a token for this MCP server (RFC 8707 resource). Check the server URL.";
    default:
      return null;
  }
}

function isMachineStep(step: OAuthStep): step is MachineStep {
  return step === "client credentials grant" || step === "token exchange at the identity provider" || step === "JWT bearer grant";
}

/** Hints per error code, saying what to do next. */
function hint(code: string, step: OAuthStep, loginHint: string): string {
  const machine = isMachineStep(step) ? machineHint(code, step) : null;
  if (machine) return machine;
  switch (code) {
    case "access_denied":
      return "The sign-in was declined in the browser. Run the login again and approve access.";
    case "invalid_client":
    case "unauthorized_client":
    case "incorrect_client_credentials":
      return "Check the client id and secret (the provider's *_CLIENT_ID / *_CLIENT_SECRET variables, or `mcp-credentials-broker provider add`).";
    case "invalid_scope":
      return "One of the requested scopes is not allowed for this app. Check --scopes / scopes.";
    case "redirect_uri_mismatch":
      return "Register the redirect URI http://localhost:9876/oauth/callback (or http://127.0.0.1/oauth/callback for any port) with the provider.";
    case "invalid_grant":
    case "bad_refresh_token":
    case "bad_verification_code":
      return step === "refresh" ? `The refresh token is no longer valid. Log in again with ${loginHint}.` : "The authorization code was rejected (expired or already used). Run the login again.";
    case "expired_token":
      return "The device code expired before the sign-in was completed. Run the login again.";
    default:
      return "Try again; if it keeps failing, check the provider's status and the app registration.";
  }
}

/**
 * Maps any error thrown by oauth4webapi (or our fetch) to a BrokerError whose message is
 * safe to show: an OAuth error code only if well-known, oauth4webapi's own fixed messages,
 * and a hint. `loginHint` is the command that logs in again (for invalid_grant on refresh).
 */
export function translateOAuthError(e: unknown, step: OAuthStep, loginHint = "`mcp-credentials-broker login`"): BrokerError {
  if (e instanceof BrokerError) return e;
  if (e instanceof oauth.ResponseBodyError || e instanceof oauth.AuthorizationResponseError) {
    const code = safeErrorCode(e.error);
    const status = e instanceof oauth.ResponseBodyError ? ` (HTTP ${e.status})` : "";
    const kind = step === "refresh" && TERMINAL_ON_REFRESH.has(code) ? "LOGIN_REQUIRED" : "OAUTH_ERROR";
    return new BrokerError(kind, `The provider answered the ${step} with ${code}${status}. ${hint(code, step, loginHint)}`, { cause: e });
  }
  if (e instanceof oauth.WWWAuthenticateChallengeError) {
    return new BrokerError("OAUTH_ERROR", `The provider refused the ${step} (HTTP ${e.status}). Check the client credentials.`, { cause: e });
  }
  if (e instanceof oauth.OperationProcessingError) {
    // oauth4webapi's messages are fixed templates naming fields, never values.
    const isIssuer = /"iss"|issuer/.test(e.message);
    return new BrokerError(
      "OAUTH_INVALID_RESPONSE",
      isIssuer && step === "discovery"
        ? "The authorization server's metadata names another issuer than the one it was fetched for; refusing to use it (RFC 8414 §3.3: a mix-up or impersonation attempt, or a misconfigured server). Ask the server's operator, or give the endpoints explicitly."
        : isIssuer
        ? `The ${step} response came from an unexpected issuer (RFC 9207 "iss" check: ${e.message}). Nothing was stored; this can be a mix-up attack.`
        : `The provider's ${step} response was not valid OAuth: ${e.message}. Nothing was stored.`,
      { cause: e },
    );
  }
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) {
    return new BrokerError("OAUTH_ERROR", `The provider did not answer the ${step} in time. Check the network and try again.`, { cause: e });
  }
  if (e instanceof TypeError) {
    const reason = fetchFailureMessage(e, "the provider");
    return new BrokerError("OAUTH_ERROR", `The ${step} failed: ${reason ?? "Could not reach the provider (network error). Check the network or the provider's URL."}`, { cause: e });
  }
  return new BrokerError("OAUTH_ERROR", `The ${step} failed unexpectedly. Try again.`, { cause: e });
}
