// The login use case shared by `login` and start_oauth_flow: resolve the provider, take the
// per-provider-and-name login lock (several broker processes → one browser flow), run the
// browser, device or paste-back flow, and store the token with its refresh token.
import { createHash } from "node:crypto";
import { BrokerError } from "../errors.ts";
import type { SecretRecord } from "../core/store.ts";
import type { LoginUi } from "./oauth-deps.ts";
import { runDeviceFlow } from "./device.ts";
import { loadServerMetadata, type ServerMetadata } from "./discovery.ts";
import { runCodeFlow, type CodeFlowOptions, type TokenGrant } from "./authorization-code.ts";
import { loadProviderSettings } from "../core/provider-settings.ts";
import { resolveProvider, type EndpointOverrides, type ProviderId, type ResolvedProvider } from "./providers.ts";
import { REFRESH_LOCK, refreshLockName, type RefreshDeps } from "./refresh.ts";
import { issuerOf, recordFromGrant } from "./token-record.ts";

/** Default time a login waits for the browser or the device approval (MCB_LOGIN_TIMEOUT, README.md §Configuration: 5 minutes). */
export const DEFAULT_LOGIN_TIMEOUT_MS = 5 * 60_000;

export type LoginMode = "auto" | "browser" | "device" | "paste";

export interface LoginRequest {
  provider: ProviderId;
  secretName: string;
  scopes?: string[];
  overrides?: EndpointOverrides;
  /** auto: a browser if one can be opened (or the client shows the URL), else the device
   * flow when offered, else wait with the URL shown. */
  mode: LoginMode;
  timeoutMs: number;
  port?: number;
  /** paste mode: redirect URLs typed by the user. */
  pasted?: AsyncIterable<string>;
  /** Shows the URL through the client (MCP URL elicitation); resolves whether it was shown. */
  presentUrl?: (url: string) => Promise<boolean>;
  signal?: AbortSignal;
  /** An already resolved client and server (a remote MCP server's discovery and registration);
   * then `provider` names only the lock and the stored record's provider. */
  target?: { provider: ResolvedProvider; meta: ServerMetadata };
  /** Where the browser's callback arrives (the proxy's own REDIRECT_PATH); our loopback server by default. */
  callback?: CodeFlowOptions["callback"];
}

export interface LoginDeps extends RefreshDeps {
  /** Opens a URL in a browser; false when none could be started. */
  openBrowser(url: string): Promise<boolean>;
  /** Whether a browser can be opened here at all (false over SSH without a display). */
  canOpenBrowser(): boolean;
}

export interface LoginResult {
  record: SecretRecord;
  /** Another broker process finished this login while we waited for it. */
  byOtherProcess: boolean;
  /** How the login happened (for the audit log and messages). */
  method: "browser" | "device" | "paste" | "other-process";
}

/** Lock file name serialising logins to one provider under one secret name, across processes. */
export function loginLockName(provider: string, secretName: string): string {
  return `login-${createHash("sha256").update(`${provider}\0${secretName}`).digest("hex").slice(0, 16)}`;
}

/**
 * Logs in and stores the token under `secretName`. A process that finds another one
 * already logging in to the same provider and name waits for it and returns its token
 * instead of opening a second browser tab (docs/security.md §OAuth).
 */
export async function login(deps: LoginDeps, req: LoginRequest, ui: LoginUi): Promise<LoginResult> {
  const provider = req.target?.provider ?? resolveProvider(req.provider, deps.env, await loadProviderSettings(deps.store, req.provider), req.overrides);
  const waitingSince = deps.clock.now();
  const lock = { timeoutMs: req.timeoutMs + 60_000, staleMs: req.timeoutMs + 120_000 };
  let announced = false;
  const waitNote = setTimeout(() => {
    announced = true;
    ui.progress(`Another broker process is logging in to ${req.provider} as '${req.secretName}'; waiting for it…`);
  }, 500);
  try {
    return await deps.withLock(
      loginLockName(req.provider, req.secretName),
      async () => {
        clearTimeout(waitNote);
        const existing = await deps.store.get(req.secretName);
        // Issuer binding: a token another process got from a different issuer is not ours.
        const sameIssuer = !req.target || (existing?.oauth !== undefined && issuerOf(existing.oauth) === req.target.meta.as.issuer);
        if (existing?.oauth?.provider === req.provider && existing.updatedAt >= waitingSince && !existing.oauth.loginRequired && sameIssuer) {
          return { record: existing, byOtherProcess: true, method: "other-process" as const };
        }
        if (announced) ui.progress("The other login did not store a token; starting our own.");
        const meta = req.target?.meta ?? (await loadServerMetadata(provider, deps.fetch));
        const mode = chooseMode(req, deps, meta.as.device_authorization_endpoint !== undefined);
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

function chooseMode(req: LoginRequest, deps: LoginDeps, hasDevice: boolean): Exclude<LoginMode, "auto"> {
  if (req.mode !== "auto") {
    if (req.mode === "device" && !hasDevice) {
      throw new BrokerError("OAUTH_ERROR", `${req.provider} offers no device flow here (no device_authorization_endpoint). Use \`login --no-browser\` and paste the redirect URL instead.`);
    }
    return req.mode;
  }
  if (req.presentUrl || deps.canOpenBrowser()) return "browser";
  // RFC 8628 is made for machines without a browser (SSH sessions, containers).
  return hasDevice ? "device" : "browser";
}
