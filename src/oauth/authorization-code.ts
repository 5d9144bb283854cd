// The authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636 S256), `state`, and for
// OpenID Connect a nonce and the `iss` check of RFC 9207, through our loopback callback.
import * as oauth from "oauth4webapi";
import { BrokerError } from "../errors.ts";
import type { ClientAuthMethod } from "./client-auth.ts";
import { randomSource, type LoginUi, type OAuthDeps } from "./oauth-deps.ts";
import type { ServerMetadata } from "./discovery.ts";
import { translateOAuthError } from "./errors.ts";
import { loginContext } from "./grant-context.ts";
import { constantTimeEqual, startCallbackServer, type CallbackServer, type CallbackServerOptions } from "./loopback.ts";
import type { LoginProfile, ResolvedProvider } from "./providers.ts";

/** A successful token response and how it was obtained (what refresh needs later). */
export interface TokenGrant {
  tokens: oauth.TokenEndpointResponse;
  authMethod: ClientAuthMethod;
  /** Scopes we asked for (the response's `scope` wins when present, RFC 6749 §5.1). */
  requestedScopes: string[];
}

/**
 * The scopes to request: the caller's (or the preset's defaults), plus the preset's offline
 * scope so a refresh token is issued — for a discovered server only when it lists that
 * scope (SEP-2207 behaviour of the MCP TypeScript SDK).
 */
export function requestedScopes(preset: LoginProfile, as: oauth.AuthorizationServer, scopes: readonly string[] | undefined): string[] {
  const base = scopes && scopes.length > 0 ? [...scopes] : [...preset.defaultScopes];
  const offline = preset.offlineScope;
  const listed = as.scopes_supported;
  if (offline && !base.includes(offline) && (listed === undefined || listed.includes(offline))) base.push(offline);
  return [...new Set(base)];
}

/** Whether this is an OpenID Connect request we can check (an openid scope and a real issuer). */
function isOidc(scopes: string[], meta: ServerMetadata): boolean {
  return scopes.includes("openid") && meta.hasIssuer;
}

/** Builds the authorization request URL (RFC 6749 §4.1.1 + RFC 7636 §4.3). */
export function authorizationUrl(p: ResolvedProvider, meta: ServerMetadata, req: { scopes: string[]; redirectUri: string; state: string; codeChallenge: string; nonce?: string }): string {
  const endpoint = meta.endpoints.authorization_endpoint;
  if (!endpoint) throw new BrokerError("OAUTH_INVALID_RESPONSE", "The provider's metadata has no authorization endpoint. Check the issuer URL, or pass both endpoints.");
  // A copy: the checked endpoint itself stays as it was.
  const url = new URL(endpoint.href);
  const q = url.searchParams;
  q.set("client_id", p.clientId);
  q.set("redirect_uri", req.redirectUri);
  q.set("response_type", "code");
  if (req.scopes.length > 0) q.set("scope", req.scopes.join(" "));
  q.set("state", req.state);
  q.set("code_challenge", req.codeChallenge);
  q.set("code_challenge_method", "S256");
  if (req.nonce) q.set("nonce", req.nonce);
  for (const [k, v] of Object.entries(p.preset.authorizationParams)) q.set(k, v);
  if (p.resource) q.set("resource", p.resource);
  // OpenID Connect Core §11: offline_access is ignored unless prompt includes consent.
  if (p.preset.id === "oauth2" && req.scopes.includes("offline_access")) q.set("prompt", "consent");
  return url.href;
}

export interface CodeFlowOptions {
  scopes?: string[];
  ui: LoginUi;
  /** Opens the URL (browser, or MCP URL elicitation); resolves whether it was shown. */
  open(url: string): Promise<boolean>;
  timeoutMs: number;
  port?: number;
  /** `login --no-browser`: redirect URLs pasted by the user, checked like a callback. */
  pasted?: AsyncIterable<string>;
  signal?: AbortSignal;
  /** Where the callback arrives: our loopback server by default; the proxy passes its own route. */
  callback?: (opts: CallbackServerOptions) => Promise<CallbackServer>;
}

/** Parameters from the first pasted redirect URL whose state matches; wrong ones are reported and skipped. */
async function fromPaste(lines: AsyncIterable<string>, state: string, ui: LoginUi): Promise<URLSearchParams> {
  for await (const raw of lines) {
    const line = raw.trim();
    if (!line) continue;
    const q = line.includes("?") ? line.slice(line.indexOf("?") + 1).split("#")[0]! : line;
    const params = new URLSearchParams(q);
    if (constantTimeEqual(params.get("state") ?? "", state)) return params;
    ui.progress("That URL does not belong to this sign-in (its state does not match). Paste the full address the browser shows after signing in.");
  }
  return new Promise(() => {});
}

/**
 * Runs the browser flow to the token response. The state is checked by the callback server
 * (constant time, once); `iss` (RFC 9207 §2.4) and the nonce by oauth4webapi. Nothing is
 * stored here: the caller stores the grant.
 */
export async function runCodeFlow(p: ResolvedProvider, meta: ServerMetadata, deps: OAuthDeps, opts: CodeFlowOptions): Promise<TokenGrant> {
  const { as } = meta;
  const tokenEndpoint = meta.endpoints.token_endpoint;
  if (!meta.endpoints.authorization_endpoint || !tokenEndpoint) {
    throw new BrokerError("OAUTH_INVALID_RESPONSE", "The provider's metadata has no authorization or token endpoint. Check the issuer URL, or pass both endpoints.");
  }
  const rnd = randomSource(deps);
  const scopes = requestedScopes(p.preset, as, opts.scopes);
  const state = rnd.state();
  const verifier = rnd.codeVerifier();
  const nonce = isOidc(scopes, meta) ? rnd.nonce() : undefined;
  const challenge = await oauth.calculatePKCECodeChallenge(verifier);
  const ctx = loginContext(p, meta, deps.fetch);
  const { client, auth, authMethod } = ctx;

  const cb = await (opts.callback ?? startCallbackServer)({
    state,
    redirectHost: p.preset.redirectHost,
    allowEphemeralPort: p.preset.loopbackAnyPort,
    port: opts.port,
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
  });
  try {
    const url = authorizationUrl(p, meta, { scopes, redirectUri: cb.redirectUri, state, codeChallenge: challenge, nonce });
    deps.log.debug(`oauth: ${p.preset.id} authorization request ready, callback on port ${cb.port}`);
    const opened = await opts.open(url).catch(() => false);
    await opts.ui.authorizationUrl(url, opened, cb.redirectUri);
    const params = await (opts.pasted ? Promise.race([cb.result, fromPaste(opts.pasted, state, opts.ui)]) : cb.result);
    opts.ui.progress("Callback received; exchanging the code for tokens…");
    // Without a real issuer (GitHub, explicit endpoints) there is nothing to compare `iss` to.
    if (!meta.hasIssuer) params.delete("iss");
    let tokens: oauth.TokenEndpointResponse;
    try {
      const validated = oauth.validateAuthResponse(as, client, params, state);
      const res = await oauth.authorizationCodeGrantRequest(as, client, auth, validated, cb.redirectUri, verifier, {
        ...ctx.options(tokenEndpoint),
        ...(p.resource ? { additionalParameters: { resource: p.resource } } : {}),
      });
      tokens = await oauth.processAuthorizationCodeResponse(as, client, res, { expectedNonce: nonce ?? oauth.expectNoNonce, requireIdToken: false });
    } catch (e) {
      const err = translateOAuthError(e, e instanceof oauth.AuthorizationResponseError ? "authorization" : "code exchange");
      cb.complete({ ok: false, message: providerReport(e) ?? err.message });
      throw err;
    }
    cb.complete({ ok: true, message: `Signed in to ${p.preset.title}.` });
    return { tokens, authMethod, requestedScopes: scopes };
  } finally {
    cb.stop();
  }
}

/** For the browser tab only: the provider's own error text (escaped by the page). */
function providerReport(e: unknown): string | null {
  if (!(e instanceof oauth.AuthorizationResponseError)) return null;
  const d = e.error_description ? ` — ${e.error_description}` : "";
  return `The provider reported: ${e.error}${d}`.slice(0, 300);
}
