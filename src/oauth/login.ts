// The login use case shared by `login` and start_oauth_flow: resolve the provider, take the
// per-provider-and-name login lock (several broker processes → one browser flow), run the
// browser, device or paste-back flow, and store the token with its refresh token.
import { createHash } from "node:crypto";
import { BrokerError } from "../errors.ts";
import type { LoginMode, LoginRequest, LoginResult, LoginUi } from "../core/oauth.ts";
import { runDeviceFlow } from "./device.ts";
import { loadServerMetadata, type ServerMetadata } from "./discovery.ts";
import { runCodeFlow, type CodeFlowOptions, type TokenGrant } from "./authorization-code.ts";
import { loadProviderSettings } from "../core/provider-settings.ts";
import { presetFor, resolveProvider, type ResolvedProvider } from "./providers.ts";
import { REFRESH_LOCK, refreshLockName, type RefreshDeps } from "./refresh.ts";
import { issuerOf, recordFromGrant } from "./token-record.ts";

/** Default time a login waits for the browser or the device approval (5 minutes, as the original broker). */
export const DEFAULT_LOGIN_TIMEOUT_MS = 5 * 60_000;

export type { LoginMode, LoginResult } from "../core/oauth.ts";

/**
 * A login with a client and server already resolved: a configured provider's (see `login`),
 * or a remote MCP server's, found by discovery and registration (src/remote/session.ts).
 */
export interface ClientLoginRequest extends Omit<LoginRequest, "provider" | "overrides"> {
  /** The client and server; `provider.preset.id` names the login lock and the stored record's provider. */
  provider: ResolvedProvider;
  /** The server's metadata when already discovered (a remote MCP server); else loaded from `provider.server`. */
  meta?: ServerMetadata;
  /** Where the browser's callback arrives (the proxy's own REDIRECT_PATH); our loopback server by default. */
  callback?: CodeFlowOptions["callback"];
}

export interface LoginDeps extends RefreshDeps {
  /** Opens a URL in a browser; false when none could be started. */
  openBrowser(url: string): Promise<boolean>;
  /** Whether a browser can be opened here at all (false over SSH without a display). */
  canOpenBrowser(): boolean;
}

/** Lock file name serialising logins to one provider under one secret name, across processes. */
export function loginLockName(provider: string, secretName: string): string {
  return `login-${createHash("sha256").update(`${provider}\0${secretName}`).digest("hex").slice(0, 16)}`;
}

/** The core's login (OAuthPort.login): resolves a configured provider (environment, `provider add`, overrides), then logs in. */
export async function login(deps: LoginDeps, req: LoginRequest, ui: LoginUi): Promise<LoginResult> {
  const id = presetFor(req.provider).id; // UNKNOWN_PROVIDER for anything else
  const { provider: _id, overrides, ...rest } = req;
  const provider = resolveProvider(id, deps.env, await loadProviderSettings(deps.store, id), overrides);
  return loginWithClient(deps, { ...rest, provider }, ui);
}

/**
 * Logs in and stores the token under `secretName`. A process that finds another one
 * already logging in to the same provider and name waits for it and returns its token
 * instead of opening a second browser tab (several MCP clients start brokers at once).
 */
export async function loginWithClient(deps: LoginDeps, req: ClientLoginRequest, ui: LoginUi): Promise<LoginResult> {
  const provider = req.provider;
  const id = provider.preset.id;
  const waitingSince = deps.clock.now();
  const lock = { timeoutMs: req.timeoutMs + 60_000, staleMs: req.timeoutMs + 120_000 };
  let announced = false;
  const waitNote = setTimeout(() => {
    announced = true;
    ui.progress(`Another broker process is logging in to ${id} as '${req.secretName}'; waiting for it…`);
  }, 500);
  try {
    return await deps.withLock(
      loginLockName(id, req.secretName),
      async () => {
        clearTimeout(waitNote);
        const existing = await deps.store.get(req.secretName);
        // Issuer binding: a token another process got from a different issuer is not ours.
        const sameIssuer = !req.meta || (existing?.oauth !== undefined && issuerOf(existing.oauth) === req.meta.as.issuer);
        if (existing?.oauth?.provider === id && existing.updatedAt >= waitingSince && !existing.oauth.loginRequired && sameIssuer) {
          return { record: existing, byOtherProcess: true, method: "other-process" as const };
        }
        if (announced) ui.progress("The other login did not store a token; starting our own.");
        const meta = req.meta ?? (await loadServerMetadata(provider, deps.fetch));
        const mode = chooseMode(req, id, deps, meta.as.device_authorization_endpoint !== undefined);
        let grant: TokenGrant;
        if (mode === "device") {
          grant = await runDeviceFlow(provider, meta, deps, { scopes: req.scopes, ui, timeoutMs: req.timeoutMs, signal: req.signal });
        } else {
          const open = mode === "paste" ? async () => false : (req.presentUrl ?? ((url: string) => deps.openBrowser(url)));
          grant = await runCodeFlow(provider, meta, deps, {
            scopes: req.scopes,
            ui,
            open,
            timeoutMs: req.timeoutMs,
            port: req.port,
            pasted: mode === "paste" ? req.pasted : undefined,
            signal: req.signal,
            callback: req.callback,
          });
        }
        // Written under the refresh lock, so a refresh in flight never overwrites a new login.
        const record = await deps.withLock(
          refreshLockName(req.secretName),
          async () => {
            const prev = await deps.store.get(req.secretName);
            const rec = recordFromGrant(grant, provider, meta, deps.clock.now(), prev);
            await deps.store.set(req.secretName, rec);
            return rec;
          },
          REFRESH_LOCK,
        );
        return { record, byOtherProcess: false, method: mode === "device" ? ("device" as const) : mode === "paste" ? ("paste" as const) : ("browser" as const) };
      },
      lock,
    );
  } finally {
    clearTimeout(waitNote);
  }
}

function chooseMode(req: ClientLoginRequest, id: string, deps: LoginDeps, hasDevice: boolean): Exclude<LoginMode, "auto"> {
  if (req.mode !== "auto") {
    if (req.mode === "device" && !hasDevice) {
      throw new BrokerError("OAUTH_ERROR", `${id} offers no device flow here (no device_authorization_endpoint). Use \`login --no-browser\` and paste the redirect URL instead.`);
    }
    return req.mode;
  }
  if (req.presentUrl || deps.canOpenBrowser()) return "browser";
  // RFC 8628 is made for machines without a browser (SSH sessions, containers).
  return hasDevice ? "device" : "browser";
}
