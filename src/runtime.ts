// The composition root: the one place that builds real adapters, from the configuration
// read once (src/config.ts). Lazily: a command builds only what it uses — `openRuntime` opens
// the store and builds the broker for commands that need them (OAuth, approval dialogs and
// remote sessions on first use), while `proxy logs`, `audit`, `rules` or `--help` open no
// store and never ask the keychain (test/runtime.test.ts). The store-selection policy lives
// with the stores (src/store/select.ts).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { config as processConfig, type Config } from "./config.ts";
import { AUDIT_CHAIN_KEY, auditKey, type AuditKey } from "./core/audit.ts";
import { FileAuditLog } from "./files/audit-log.ts";
import { Broker } from "./core/broker.ts";
import type { OAuthPort } from "./core/oauth.ts";
import { systemClock } from "./core/clock.ts";
import { loadOrCreateInternalItem } from "./core/internal-item.ts";
import { MemoryRevocationList } from "./core/revocations.ts";
import { FileRevocationList } from "./files/revocation-list.ts";
import { INTERNAL_PREFIX } from "./core/store.ts";
import { describeError } from "./errors.ts";
import { assertPrivateDataDir } from "./files/data-files.ts";
import { dirLocks } from "./files/lock-file.ts";
import { createLogger, type Logger } from "./log.ts";
import type { InstallDeps } from "./mcp-clients/install.ts";
import { dataFiles } from "./paths.ts";
import type { RemoteDeps } from "./remote/session.ts";
import type { StoreChoice } from "./store/select.ts";

export { brokerVersion } from "./build-info.ts";

export interface Runtime {
  /** The configuration the runtime was built from (typed fields; secrets non-enumerable). */
  config: Config;
  broker: Broker;
  dataDir: string;
  log: Logger;
  storeChoice: StoreChoice;
  /** Why this backend was chosen, for status and doctor. */
  storeReason: string;
  /** The fallback warning (auto without a keychain), whether or not it was printed this time: `status` always shows it. */
  storeWarning?: string;
  /** What a remote MCP server's session (proxy, connect) needs: store, locks, OAuth transport, browser, DNS. */
  remoteDeps(): Promise<RemoteDeps>;
}

/** What openRuntime takes: the CLI's runtime factory (src/cli/command.ts RuntimeFactory) passes these through. */
export interface RuntimeOptions {
  /** `--store`, which wins over MCB_STORE. */
  storeFlag?: string;
  /** Leave printing the store fallback warning to the caller (`status` reports it every time). */
  quietStoreWarning?: boolean;
  /** The MCP server: the one process kind that remembers approvals (`secret policy … --remember`). */
  serving?: boolean;
  /** The configuration to build from (tests: loadConfig over a temp MCB_HOME); default: this process's. */
  config?: Config;
}

/** The stderr logger a configuration asks for (MCB_DEBUG). */
export function loggerFor(cfg: Config): Logger {
  return createLogger({ debug: cfg.debug });
}

/**
 * The data dir of `cfg`, checked first: throws DATA_DIR_UNSAFE for one that is not private
 * (see assertPrivateDataDir). For commands that read its files without opening a store
 * (`audit`, `proxy stop|status|logs`, `secret approvals`).
 */
export function privateDataDir(cfg: Config = processConfig()): string {
  assertPrivateDataDir(cfg.dataDir, cfg.platform, process.getuid?.());
  return cfg.dataDir;
}

/**
 * The audit log's path for this environment (`audit` reads it without opening the store);
 * throws DATA_DIR_UNSAFE for a data dir that is not private (see assertPrivateDataDir).
 */
export function auditLogPath(cfg: Config = processConfig()): string {
  return join(privateDataDir(cfg), dataFiles.audit);
}

/**
 * The audit chain key kept in the store `--store`/MCB_STORE picks (read, never created), for
 * `audit --verify`; null with why when there is none to read (a store that cannot be opened,
 * the memory store, a log never keyed).
 */
export async function readAuditKey(storeFlag: string | undefined, cfg: Config = processConfig()): Promise<{ key: AuditKey | null; why?: string }> {
  const { openStore, parseStoreChoice, storeSettings } = await import("./store/select.ts");
  const choice = parseStoreChoice(storeFlag ?? cfg.store.choice);
  if (choice === "memory") return { key: null, why: "--store memory keeps no audit key" };
  try {
    const { store } = await openStore(choice, cfg.dataDir, storeSettings(cfg));
    try {
      const item = await store.get(`${INTERNAL_PREFIX}${AUDIT_CHAIN_KEY}`);
      return item ? { key: auditKey(Buffer.from(item.value, "base64url")) } : { key: null, why: `the store (${store.description}) holds no audit key` };
    } finally {
      await store.close();
    }
  } catch (e) {
    return { key: null, why: describeError(e) };
  }
}

/** Prints the configuration's warnings (values ignored: MCB_LOGIN_TIMEOUT, MCB_CALLBACK_PORT, MCB_APPROVAL_TIMEOUT). */
export function warnAboutConfig(cfg: Config, log: Logger): void {
  for (const w of cfg.warnings) log.warn(w.message);
}

/**
 * What approving a `confirm` secret needs from this machine: the OS dialog (chosen by
 * platform, programs by absolute path) and the ledger of remembered approvals in the data
 * dir. Only a serving process remembers approvals; every process can revoke them.
 */
export async function approvalDeps(cfg: Config, dataDir: string, serving: boolean, clock = systemClock) {
  const [{ osApprover }, { FileApprovalLedger, bootId }] = await Promise.all([import("./approval/os.ts"), import("./approval/ledger.ts")]);
  const timeoutMs = cfg.approvalTimeoutMs;
  return {
    // The dialogs run with the inherited environment (the session: DISPLAY, D-Bus, locale), minus credentials (dialogEnv).
    os: osApprover({ platform: cfg.platform, env: cfg.inherited, timeoutMs }),
    ledger: new FileApprovalLedger({ dataDir, pid: process.pid, boot: bootId(cfg.platform), now: () => clock.now() }),
    remember: serving,
    timeoutMs,
  };
}

/**
 * Opens the store and builds the broker from the configuration. `storeFlag` is `--store`,
 * which wins over MCB_STORE. The fallback warning goes to stderr once per data dir and reason
 * (storeWarningIsNew); `quietStoreWarning` leaves printing it to the caller (`status` has it
 * in its report every time), which counts as having said it. `serving`: the MCP server, the
 * one process kind that remembers approvals (`secret policy … --remember`).
 */
export async function openRuntime(opts: RuntimeOptions = {}): Promise<Runtime> {
  const cfg = opts.config ?? processConfig();
  const log = loggerFor(cfg);
  // Loaded here, not at import: a command that opens no store never loads the selection policy.
  const { openStore, parseStoreChoice, STORE_WARNING_ONCE_NOTE, storeSettings, storeWarningIsNew } = await import("./store/select.ts");
  // Before anything is read from it or written to it.
  const dataDir = privateDataDir(cfg);
  const storeChoice = parseStoreChoice(opts.storeFlag ?? cfg.store.choice);
  const { store, reason, warning } = await openStore(storeChoice, dataDir, storeSettings(cfg));
  const isNew = storeWarningIsNew(dataDir, warning);
  if (warning && !opts.quietStoreWarning) {
    if (isNew) log.warn(`${warning} ${STORE_WARNING_ONCE_NOTE}`);
    else log.debug(`${warning} (said before for this data dir)`);
  }
  const clock = systemClock;
  const revocations = storeChoice === "memory" ? new MemoryRevocationList(() => clock.now()) : new FileRevocationList(join(dataDir, dataFiles.revoked), () => clock.now());
  const withLock = dirLocks(dataDir);
  // The OAuth side's outside world, loaded on first use: `serve` answers `initialize` without oauth4webapi.
  const oauthBase = async () => {
    const browser = await import("./oauth/browser.ts");
    return {
      store,
      clock,
      log,
      env: cfg.oauthVars,
      platform: cfg.platform,
      // OAuth requests are few and far apart (device polling waits 5-10 s, refreshes an
      // hour): a pooled connection would often be one the server already closed (ECONNRESET).
      fetch: new Bun.FetchSession({ keepAlive: false }).fetch,
      withLock,
      canOpenBrowser: () => browser.browserCommand({ ...cfg.browser, path: cfg.path }, cfg.platform) !== null,
      openBrowser: async (url: string) => {
        const cmd = browser.browserCommand({ ...cfg.browser, path: cfg.path }, cfg.platform);
        return cmd ? browser.openInBrowser(cmd, url, cfg.inherited) : false;
      },
    };
  };
  let oauth: Promise<OAuthPort> | null = null;
  const loadOAuth = () => {
    oauth ??= Promise.all([import("./oauth/oauth-port.ts"), oauthBase()]).then(([service, base]) => service.createOAuthService(base));
    return oauth;
  };
  // Values ignored (a bad MCB_LOGIN_TIMEOUT, …): said by every command that builds a broker, as before.
  warnAboutConfig(cfg, log);
  const broker = new Broker({
    store,
    clock,
    audit: new FileAuditLog({
      path: join(dataDir, dataFiles.audit),
      now: () => clock.now(),
      ...(cfg.auditMaxBytes !== undefined ? { maxBytes: cfg.auditMaxBytes } : {}),
      // The chain is keyed with a key kept in the store, not beside the log. The memory store
      // forgets its key with the process: its lines go unkeyed (audit --verify says so).
      ...(storeChoice === "memory"
        ? {}
        : { chainKey: () => loadOrCreateInternalItem({ store, clock, withLock }, AUDIT_CHAIN_KEY, async () => randomBytes(32).toString("base64url")).then((v) => Buffer.from(v, "base64url")) }),
    }),
    revocations,
    jwtSecret: cfg.jwtSecret,
    withLock,
    oauth: loadOAuth,
    loginDefaults: cfg.login,
    approval: await approvalDeps(cfg, dataDir, opts.serving === true, clock),
  });
  const remoteDeps = async (): Promise<RemoteDeps> => ({
    ...(await oauthBase()),
    resolve: (await import("./remote/guarded-fetch.ts")).systemResolver,
    // The session stores and deletes its token itself; the broker audits each change.
    audit: (change, fn) => broker.auditChange(change, { client: "cli", user: true }, fn),
  });
  return { broker, dataDir, log, storeChoice, storeReason: reason, ...(warning ? { storeWarning: warning } : {}), config: cfg, remoteDeps };
}

/** What `install`, `uninstall` and `doctor` need from the machine: client paths, PATH lookup, spawning. */
export function installDeps(cfg: Config = processConfig()): InstallDeps {
  return {
    env: { platform: cfg.platform, home: cfg.home, appData: cfg.appData, xdgConfigHome: cfg.xdgConfigHome, cwd: cfg.cwd },
    which: (bin) => Bun.which(bin, { PATH: cfg.path }) ?? undefined,
    run: (argv) => {
      // No shell: argv goes to the client's CLI as it is. Their config commands are quick.
      const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
      return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.error ? `${r.stderr ?? ""}${(r.error as NodeJS.ErrnoException).code ?? ""}` : (r.stderr ?? "") };
    },
    now: () => Date.now(),
  };
}
