// The broker's configuration: the process environment read once, at the start, into one
// validated, frozen object. Every other module gets typed fields from it (through the
// composition root, src/runtime.ts); no other file reads `process.env` (test/config.test.ts).
//
// A bad value behaves as it always has: MCB_AUDIT_MAX_BYTES fails the commands that write the
// audit log (the error is thrown where the value is used, so `--help` still works), and a bad
// MCB_LOGIN_TIMEOUT, MCB_CALLBACK_PORT or MCB_APPROVAL_TIMEOUT is ignored with a warning
// (`warnings`, printed by the runtime that uses it).
//
// Secret-bearing fields (MCB_STORE_KEY, JWT_SECRET, provider and remote client secrets, the
// inherited environment) are non-enumerable and left out of JSON.stringify and of
// console.log / Bun.inspect: a config printed by accident shows which are set, never a value.
import { homedir } from "node:os";
import { inspect } from "node:util";
import { BrokerError } from "./errors.ts";
import { optionalPort } from "./net/port.ts";
import { resolveDataDir } from "./paths.ts";

/** An environment as the process has it: names to values, some unset. */
export type RawEnv = Readonly<Record<string, string | undefined>>;

/**
 * The environment a child process inherits: the broker's own, frozen, with unset names
 * dropped. Children need it whole — `run` hands it to the wrapped command (minus the
 * broker's credentials, src/core/inject.ts), the keychain helpers (secret-tool, security,
 * powershell) need the D-Bus / session variables, the browser opener and the OS approval
 * dialogs need DISPLAY, XAUTHORITY, locale and HOME (each filters out credentials before
 * spawning: src/oauth/browser.ts openerEnv, src/approval/dialog.ts dialogEnv), and `proxy
 * start` re-runs the broker itself. It is the one raw bag left, and it goes only to modules
 * that start a process; what the broker itself reads is a typed field of Config.
 * Printing it shows a count, never the variables (they hold credentials).
 */
export type InheritedEnv = Readonly<Record<string, string>>;

/** A variable whose value was ignored, with the warning that says so. */
export interface ConfigWarning {
  variable: string;
  message: string;
}

export interface Config {
  readonly platform: NodeJS.Platform;
  /** The user's home directory (os.homedir(): HOME, or USERPROFILE on Windows). */
  readonly home: string;
  readonly cwd: string;
  /** MCB_HOME, else XDG_DATA_HOME (or ~/.local/share) on Linux, Application Support on macOS, %APPDATA% on Windows (src/paths.ts resolveDataDir). */
  readonly dataDir: string;
  /** MCB_DEBUG: debug lines on stderr. */
  readonly debug: boolean;
  /** NO_COLOR set (to anything, https://no-color.org): no ANSI colours. */
  readonly noColor: boolean;
  readonly store: {
    /** MCB_STORE as given (parsed with `--store`, which wins, by src/store/select.ts parseStoreChoice). */
    readonly choice?: string;
    /** MCB_KEYCHAIN_SERVICE: the keychain service name instead of the default. */
    readonly keychainService?: string;
    /** MCB_STORE_KEY: the file store's passphrase. Secret: non-enumerable. */
    readonly key?: string;
  };
  /** MCB_AUDIT_MAX_BYTES (≥ 1024): the size at which audit.jsonl is rotated; undefined = the audit log's default (10 MiB). Reading it throws INVALID_INPUT for a bad value. */
  readonly auditMaxBytes: number | undefined;
  /** MCB_LOGIN_TIMEOUT (seconds, 1-3600, default 300) and MCB_CALLBACK_PORT (default: the login's own, 9876). */
  readonly login: { readonly timeoutMs: number; readonly port?: number };
  /** MCB_APPROVAL_TIMEOUT (seconds, 1-3600, default 120): how long an OS dialog or the terminal waits for an answer. */
  readonly approvalTimeoutMs: number;
  /** JWT_SECRET: sign minted tokens HS256 with it instead of the stored ES256 key. Secret: non-enumerable. */
  readonly jwtSecret?: string;
  /** Provider variables (GITHUB_CLIENT_ID, *_CLIENT_SECRET, OAUTH2_ISSUER, OKTA_DOMAIN, AZURE_TENANT_ID, GITHUB_HOST) and the proxy variables the remote address policy reads (HTTP(S)_PROXY, MCB_PROXY_RESOLVES_NAMES). Secret-bearing: non-enumerable. */
  readonly oauthVars: RawEnv;
  /** mcp_auth_proxy's variables for `connect` and `proxy` (UPSTREAM_MCP_URL, PORT, CLIENT_ID, CLIENT_SECRET, IDP_ID_TOKEN, …): flags are laid over them. Secret-bearing: non-enumerable. */
  readonly remoteVars: RawEnv;
  /** BROWSER, DISPLAY / WAYLAND_DISPLAY, SystemRoot: how a login opens the browser. */
  readonly browser: { readonly override?: string; readonly display: boolean; readonly systemRoot?: string };
  /** PATH (Path on Windows), for finding programs the user names (BROWSER) and MCP client CLIs. */
  readonly path: string;
  /** APPDATA and XDG_CONFIG_HOME: where MCP clients keep their config (`install`). */
  readonly appData?: string;
  readonly xdgConfigHome?: string;
  /** Values that were ignored, each with its warning. */
  readonly warnings: readonly ConfigWarning[];
  /** The environment child processes inherit (see InheritedEnv). Secret-bearing: non-enumerable. */
  readonly inherited: InheritedEnv;
}

/** The provider and proxy variables `oauthVars` keeps (src/oauth/providers.ts PROVIDERS names them; a test checks they are covered). */
const OAUTH_VAR = /^[A-Z0-9]+_CLIENT_(ID|SECRET)$|^(OAUTH2_ISSUER|OKTA_DOMAIN|AZURE_TENANT_ID|GITHUB_HOST|HTTP_PROXY|HTTPS_PROXY|http_proxy|https_proxy|MCB_PROXY_RESOLVES_NAMES)$/;

/** mcp_auth_proxy's variables (src/remote/config.ts, src/remote/proxy-config.ts). */
export const REMOTE_VARIABLES = [
  "UPSTREAM_MCP_URL", "PORT", "BIND", "HOST", "PUBLIC_BASE_URL", "REDIRECT_PATH", "KEYCHAIN_SERVICE", "PROBE_PATH",
  "AUTHORIZATION_ENDPOINT", "TOKEN_ENDPOINT", "ISSUER", "AUTO_REGISTER_CLIENT", "SCOPES", "CLIENT_ID", "CLIENT_SECRET",
  "CLIENT_SECRET_FILE", "CLIENT_METADATA_URL", "CLIENT_CREDENTIALS", "PRIVATE_KEY_FILE", "SIGNING_ALG", "CROSS_APP",
  "IDP_TOKEN_ENDPOINT", "IDP_CLIENT_ID", "IDP_CLIENT_SECRET", "IDP_ID_TOKEN",
] as const;

/** A whole number of seconds from 1 to `max`, or undefined (unset or empty) — a bad value is ignored with a warning. */
function seconds(env: RawEnv, name: string, max: number, warnings: ConfigWarning[], expected: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (Number.isInteger(n) && n > 0 && n <= max) return n;
  warnings.push({ variable: name, message: `ignoring ${name}=${JSON.stringify(raw.slice(0, 20))}: ${expected}` });
  return undefined;
}

/** MCB_AUDIT_MAX_BYTES: a size in bytes, at least 1024, or the error a command that writes the log throws. */
function auditMaxBytes(raw: string | undefined): number | undefined | BrokerError {
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1024) return new BrokerError("INVALID_INPUT", `MCB_AUDIT_MAX_BYTES must be a whole number of bytes, at least 1024 (got '${raw}').`);
  return n;
}

/** `bag` frozen, shown as a count when printed (it holds credentials). */
function sealed<T extends object>(bag: T, what: string): Readonly<T> {
  const shown = `[${what}: ${Object.keys(bag).length} variable(s), not shown]`;
  Object.defineProperty(bag, "toJSON", { value: () => shown, enumerable: false });
  Object.defineProperty(bag, inspect.custom, { value: () => shown, enumerable: false });
  return Object.freeze(bag);
}

function pick(env: RawEnv, keep: (name: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && keep(k)) out[k] = v;
  return out;
}

/** The names of the secret-bearing fields, for the redacted views. */
const SECRET_FIELDS = ["jwtSecret", "oauthVars", "remoteVars", "inherited"] as const;

/**
 * Reads a configuration from `env` (the process environment, or a test's), validated and
 * frozen. Never throws: a bad value becomes a warning or the error its field throws when read.
 */
export function loadConfig(env: RawEnv, platform: NodeJS.Platform = process.platform, home: string = homedir(), cwd: string = process.cwd()): Config {
  const warnings: ConfigWarning[] = [];
  const loginTimeout = seconds(env, "MCB_LOGIN_TIMEOUT", 3600, warnings, "expected a whole number from 1 to 3600");
  let callbackPort: number | undefined;
  try {
    callbackPort = optionalPort(env.MCB_CALLBACK_PORT, "MCB_CALLBACK_PORT");
  } catch (e) {
    warnings.push({ variable: "MCB_CALLBACK_PORT", message: `${(e as Error).message} Ignoring it: the default callback port is used.` });
  }
  const approval = seconds(env, "MCB_APPROVAL_TIMEOUT", 3600, warnings, "expected a whole number of seconds from 1 to 3600");
  const maxBytes = auditMaxBytes(env.MCB_AUDIT_MAX_BYTES);
  const text = (name: string) => env[name] || undefined;

  const store: Record<string, unknown> = {};
  if (env.MCB_STORE !== undefined) store.choice = env.MCB_STORE;
  if (text("MCB_KEYCHAIN_SERVICE")) store.keychainService = text("MCB_KEYCHAIN_SERVICE");
  // Undefined and "" are one: no passphrase (the file store asks for one where it needs it).
  Object.defineProperty(store, "key", { value: env.MCB_STORE_KEY, enumerable: false });
  Object.defineProperty(store, "toJSON", { value: () => ({ ...store, ...(env.MCB_STORE_KEY ? { key: "[set, not shown]" } : {}) }), enumerable: false });
  Object.defineProperty(store, inspect.custom, { value: () => (store as { toJSON(): unknown }).toJSON(), enumerable: false });

  const config: Record<string | symbol, unknown> = {
    platform,
    home,
    cwd,
    dataDir: resolveDataDir(env, platform, home),
    debug: Boolean(env.MCB_DEBUG),
    noColor: env.NO_COLOR !== undefined,
    store: Object.freeze(store),
    login: Object.freeze({ timeoutMs: (loginTimeout ?? 300) * 1000, ...(callbackPort !== undefined ? { port: callbackPort } : {}) }),
    approvalTimeoutMs: (approval ?? 120) * 1000,
    browser: Object.freeze({
      ...(env.BROWSER?.trim() ? { override: env.BROWSER.trim() } : {}),
      display: Boolean(env.DISPLAY || env.WAYLAND_DISPLAY),
      ...((env.SystemRoot ?? env.SYSTEMROOT) ? { systemRoot: env.SystemRoot ?? env.SYSTEMROOT } : {}),
    }),
    path: env.PATH ?? env.Path ?? "",
    ...(env.APPDATA !== undefined ? { appData: env.APPDATA } : {}),
    ...(env.XDG_CONFIG_HOME !== undefined ? { xdgConfigHome: env.XDG_CONFIG_HOME } : {}),
    warnings: Object.freeze(warnings.map((w) => Object.freeze(w))),
  };
  Object.defineProperty(config, "auditMaxBytes", {
    enumerable: true,
    get: () => {
      if (maxBytes instanceof BrokerError) throw maxBytes;
      return maxBytes;
    },
  });
  const hidden = {
    jwtSecret: env.JWT_SECRET || undefined,
    oauthVars: sealed(pick(env, (k) => OAUTH_VAR.test(k)), "provider variables"),
    remoteVars: sealed(pick(env, (k) => (REMOTE_VARIABLES as readonly string[]).includes(k)), "remote MCP variables"),
    inherited: sealed(pick(env, () => true), "inherited environment"),
  };
  for (const k of SECRET_FIELDS) Object.defineProperty(config, k, { value: hidden[k], enumerable: false });
  // What printing the config shows: its plain fields, and which secret-bearing ones are set.
  const view = () => {
    const shown: Record<string, unknown> = {};
    for (const k of Object.keys(config)) {
      if (k === "auditMaxBytes") shown[k] = maxBytes instanceof BrokerError ? `[invalid: ${maxBytes.message}]` : maxBytes;
      else shown[k] = config[k];
    }
    if (hidden.jwtSecret) shown.jwtSecret = "[set, not shown]";
    return shown;
  };
  Object.defineProperty(config, "toJSON", { value: view, enumerable: false });
  Object.defineProperty(config, inspect.custom, { value: () => view(), enumerable: false });
  return Object.freeze(config) as unknown as Config;
}

let processConfig: Config | undefined;

/** This process's configuration, read from `process.env` the first time it is asked for. */
export function config(): Config {
  processConfig ??= loadConfig(process.env);
  return processConfig;
}
