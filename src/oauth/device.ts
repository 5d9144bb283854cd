// The device authorization grant (RFC 8628) for machines without a browser: show a code,
// poll the token endpoint at the server's pace (`interval`, `slow_down`) until approved.
import * as oauth from "oauth4webapi";
import { BrokerError } from "../errors.ts";
import type { LoginUi, OAuthDeps } from "./oauth-deps.ts";
import type { ServerMetadata } from "./discovery.ts";
import { translateOAuthError } from "./errors.ts";
import { requestedScopes, type TokenGrant } from "./authorization-code.ts";
import { loginContext } from "./grant-context.ts";
import type { ResolvedProvider } from "./providers.ts";
import { safeHref } from "./url-policy.ts";

/** RFC 8628 §3.2: without `interval` the client waits 5 seconds between polls. */
export const DEFAULT_POLL_INTERVAL_S = 5;
/** RFC 8628 §3.5: every `slow_down` adds 5 seconds to the interval, for all later polls. */
export const SLOW_DOWN_STEP_S = 5;

export interface DeviceFlowOptions {
  scopes?: string[];
  ui: LoginUi;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** The interval after a `slow_down`: +5 s, or the server's new interval when it names a longer one (GitHub does). */
export function slowedInterval(current: number, announced: unknown): number {
  const bumped = current + SLOW_DOWN_STEP_S;
  return typeof announced === "number" && Number.isFinite(announced) && announced > bumped ? announced : bumped;
}

/**
 * Runs the device flow to the token response. Polls no faster than `interval` (sleeping on
 * the injected clock), adds 5 s on every `slow_down`, keeps waiting on
 * `authorization_pending`, and stops at the code's expiry or `timeoutMs`.
 * @see RFC 8628 §3.4, §3.5 https://www.rfc-editor.org/rfc/rfc8628#section-3.5
 */
export async function runDeviceFlow(p: ResolvedProvider, meta: ServerMetadata, deps: OAuthDeps, opts: DeviceFlowOptions): Promise<TokenGrant> {
  const { as } = meta;
  const { device_authorization_endpoint: deviceEndpoint, token_endpoint: tokenEndpoint } = meta.endpoints;
  if (!deviceEndpoint || !tokenEndpoint) {
    throw new BrokerError("OAUTH_ERROR", `${p.preset.title} offers no device authorization endpoint here. Use the browser login, or \`login --no-browser\` to paste the redirect URL.`);
  }
  const scopes = requestedScopes(p.preset, as, opts.scopes);
  const ctx = loginContext(p, meta, deps.fetch);
  const { client, auth, authMethod } = ctx;

  let d: oauth.DeviceAuthorizationResponse;
  try {
    const params: Record<string, string> = scopes.length > 0 ? { scope: scopes.join(" ") } : {};
    const res = await oauth.deviceAuthorizationRequest(as, client, auth, params, ctx.options(deviceEndpoint));
    d = await oauth.processDeviceAuthorizationResponse(as, client, res);
  } catch (e) {
    throw translateOAuthError(e, "device authorization");
  }
  // The verification URI comes from the server: it passes the same policy as any URL we show or open.
  const verificationUri = safeHref(d.verification_uri, "verification URI");
  const complete = typeof d.verification_uri_complete === "string" ? safeHref(d.verification_uri_complete, "verification URI") : undefined;
  await opts.ui.deviceCode({ verificationUri, ...(complete ? { verificationUriComplete: complete } : {}), userCode: d.user_code, expiresIn: d.expires_in });

  let interval = typeof d.interval === "number" && d.interval > 0 ? d.interval : DEFAULT_POLL_INTERVAL_S;
  const deadline = deps.clock.now() + Math.min(d.expires_in * 1000, opts.timeoutMs);
  const tokenOpts = ctx.options(tokenEndpoint);
  for (;;) {
    await deps.clock.sleep(interval * 1000, opts.signal);
    if (opts.signal?.aborted) throw new BrokerError("OAUTH_TIMEOUT", "The sign-in was cancelled.");
    if (deps.clock.now() >= deadline) {
      throw new BrokerError("OAUTH_TIMEOUT", `The code ${d.user_code} was not approved in time. Run the login again.`);
    }
    try {
      const res = await oauth.deviceCodeGrantRequest(as, client, auth, d.device_code, tokenOpts);
      const tokens = await oauth.processDeviceCodeResponse(as, client, res);
      return { tokens, authMethod, requestedScopes: scopes };
    } catch (e) {
      if (e instanceof oauth.ResponseBodyError && e.error === "authorization_pending") continue;
      if (e instanceof oauth.ResponseBodyError && e.error === "slow_down") {
        interval = slowedInterval(interval, (e.cause as Record<string, unknown> | undefined)?.interval);
        deps.log.debug(`oauth: slow_down, polling every ${interval} s`);
        continue;
      }
      throw translateOAuthError(e, "device polling");
    }
  }
}
