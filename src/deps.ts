// The composition root: the one place that reads the environment and builds real adapters.
import { spawnSync } from "node:child_process";
import { mkdirSync, unlinkSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "./files/atomic-write.ts";
import type { InstallDeps } from "./mcp-clients/install.ts";
import { randomBytes } from "node:crypto";
import { AUDIT_CHAIN_KEY, auditKey, DEFAULT_AUDIT_MAX_BYTES, FileAuditLog, type AuditKey } from "./core/audit.ts";
import { Broker, type OAuthPort } from "./core/broker.ts";
import { systemClock } from "./core/clock.ts";
import { FileRevocationList, MemoryRevocationList } from "./core/revocations.ts";
import { loadOrCreateInternalItem } from "./core/internal-item.ts";
import { assertPrivateDataDir, readDataFile } from "./files/data-files.ts";
import { BrokerError, describeError } from "./errors.ts";
import { optionalPort } from "./net/port.ts";
import { createLogger, type Logger } from "./log.ts";
import { dataFiles, resolveDataDir } from "./paths.ts";
import { acquireLock, type LockOptions } from "./files/lock-file.ts";
import type { RemoteDeps } from "./remote/session.ts";
import type { KeychainItems, KeychainProbe } from "./store/keychain.ts";
import { INTERNAL_PREFIX, type Store } from "./core/store.ts";

export { brokerVersion } from "./build-info.ts";

export const STORE_CHOICES = ["auto", "keychain", "file", "memory"] as const;
export type StoreChoice = (typeof STORE_CHOICES)[number];

export interface Runtime {
  broker: Broker;
  dataDir: string;
  log: Logger;
  storeChoice: StoreChoice;
  /** Why this backend was chosen, for status and doctor. */
  storeReason: string;
  /** The fallback warning (auto without a keychain), whether or not it was printed this time: `status` always shows it. */
  storeWarning?: string;
  /** The environment the runtime was built from (provider variables, for `provider list`). */
  env: Record<string, string | undefined>;
  /** What a remote MCP server's session (proxy, connect) needs: store, locks, OAuth transport, browser, DNS. */
  remoteDeps(): Promise<RemoteDeps>;
}

/** Parses `--store` / MCB_STORE, throwing a usage error that lists the choices. */
export function parseStoreChoice(raw: string | undefined): StoreChoice {
  // An empty value is unset: an MCP Bundle host passes a cleared settings field as "".
  const v = (raw?.trim() || "auto").toLowerCase();
  if ((STORE_CHOICES as readonly string[]).includes(v)) return v as StoreChoice;
  throw new BrokerError("INVALID_INPUT", `Unknown store '${raw}'. Use one of: ${STORE_CHOICES.join(", ")} (flag --store or MCB_STORE).`);
}

/** The store a choice resolved to, why, and for `auto` falling back to the file store, the warning to print. */
export interface StoreSelection {
  store: Store;
  reason: string;
  warning?: string;
  /** With the fallback: how many secrets this data dir kept in the keychain earlier (out of reach until it answers). */
  stranded?: number;
}

export interface OpenStoreOptions {
  platform?: string;
  /** The platform keychain to use instead of the real one (tests); null = none on this platform. */
  keychain?: KeychainItems | null;
}

/**
 * The OS keychain of `platform`, built from `env` with its helper at an absolute path;
 * null where the broker has no keychain backend.
 */
export async function platformKeychain(platform: string, env: Record<string, string | undefined>): Promise<KeychainItems | null> {
  if (platform === "darwin") {
    const { MacKeychain } = await import("./store/macos.ts");
    return new MacKeychain({ env });
  }
  if (platform === "win32") {
    const { WindowsCredentialManager, windowsPowerShellPath } = await import("./store/windows.ts");
    return new WindowsCredentialManager({ powershell: windowsPowerShellPath(env), env });
  }
  if (platform === "linux" || platform === "freebsd" || platform === "openbsd") {
    const [{ LinuxSecretService }, { findSystemTool }] = await Promise.all([import("./store/linux.ts"), import("./store/exec.ts")]);
    return new LinuxSecretService({ secretTool: findSystemTool("secret-tool"), dbusSend: findSystemTool("dbus-send"), env });
  }
  return null;
}

/** Asks the keychain whether it answers; a platform without one is "unavailable". */
export async function probeKeychain(items: KeychainItems | null, platform: string, thorough = false): Promise<KeychainProbe> {
  if (!items) return { state: "unavailable", why: `no OS keychain backend for ${platform}`, fix: "use --store file (encrypted with MCB_STORE_KEY)" };
  return items.probe(thorough);
}

/**
 * Picks and opens the store for a choice. `auto` takes the OS keychain when it answers
 * (a locked one included: its operations say how to unlock it), else the file store with a
 * warning saying why and how to fix it. `keychain` fails instead of falling back.
 */
export async function openStore(choice: StoreChoice, dataDir: string, env: Record<string, string | undefined>, opts: OpenStoreOptions = {}): Promise<StoreSelection> {
  const platform = opts.platform ?? process.platform;
  if (choice === "memory") {
    const { MemoryStore } = await import("./store/memory.ts");
    return { store: new MemoryStore(), reason: "--store memory / MCB_STORE=memory" };
  }
  const openFile = async () => {
    const { FileStore } = await import("./store/file.ts");
    return new FileStore({ dir: dataDir, passphrase: env.MCB_STORE_KEY });
  };
  if (choice === "file") return { store: await openFile(), reason: "--store file / MCB_STORE=file" };
  const items = opts.keychain !== undefined ? opts.keychain : await platformKeychain(platform, env);
  const probe = await probeKeychain(items, platform);
  if (items && probe.state !== "unavailable") {
    const { KeychainStore } = await import("./store/keychain.ts");
    const store = new KeychainStore({ items, dir: dataDir, service: env.MCB_KEYCHAIN_SERVICE || undefined });
    const how = choice === "auto" ? "auto: the OS keychain answers" : "--store keychain / MCB_STORE=keychain";
    return { store, reason: `${how} (${probe.detail}${probe.state === "locked" ? `; to use it, ${probe.fix}` : ""})` };
  }
  const { why, fix } = probe as Extract<KeychainProbe, { state: "unavailable" }>;
  if (choice === "keychain") {
    throw new BrokerError("BACKEND_UNAVAILABLE", `The OS keychain is unavailable: ${why}. To fix, ${fix}; or use --store file.`);
  }
  const store = await openFile();
  const stranded = keychainEntryCount(dataDir);
  const strandedNote = stranded > 0 ? ` ${stranded} secret(s) stored in the keychain earlier are out of reach until it answers.` : "";
  return {
    store,
    reason: `auto: OS keychain unavailable (${why}); using the file store`,
    ...(stranded > 0 ? { stranded } : {}),
    warning: `OS keychain unavailable (${why}); keeping secrets in the file ${join(dataDir, dataFiles.secrets)} instead.${strandedNote} To fix: ${fix}; or set MCB_STORE=file to choose the file store and silence this warning.`,
  };
}

/** How many secrets this data dir's keychain index lists (0 when there is none or it cannot be read). */
function keychainEntryCount(dataDir: string): number {
  try {
    const raw = JSON.parse(readDataFile(join(dataDir, dataFiles.keychainIndex), "utf8")) as { entries?: Record<string, unknown> };
    return Object.keys(raw.entries ?? {}).filter((n) => !n.startsWith(INTERNAL_PREFIX)).length;
  } catch {
    return 0;
  }
}

/**
 * The file in the data dir that records the fallback warning last printed there (its text:
 * a reason, a path and a count, never a secret), so that each command on a machine without
 * a keychain (SSH, containers) does not repeat it.
 */
export const STORE_WARNING_SHOWN_FILE = "store-warning-shown.txt";

/** What is printed after the fallback warning: that it is said once, and where to see it again. */
export const STORE_WARNING_ONCE_NOTE = "(Said once for this data dir until the reason changes; `mcp-credentials-broker status` and `doctor` show it.)";

/**
 * Whether to print the fallback `warning` now: yes unless the data dir records that the
 * same text was printed before. Recording is best effort (a read-only or missing data dir
 * just means it is printed again next time). With no warning (the keychain answers, or a
 * store chosen on purpose) the record is dropped, so a later fallback is announced again.
 */
export function storeWarningIsNew(dataDir: string, warning: string | undefined): boolean {
  const file = join(dataDir, STORE_WARNING_SHOWN_FILE);
  if (warning === undefined) {
    try {
      unlinkSync(file);
    } catch {
      /* none recorded, or not ours to change */
    }
    return false;
  }
  try {
    if (readDataFile(file, "utf8") === warning) return false;
  } catch {
    /* not recorded yet */
  }
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // Temp file + rename: never written through a symbolic link planted at that name.
    writeFileAtomic(file, warning, 0o600);
  } catch {
    /* read-only or unwritable data dir: say it every time rather than never */
  }
  return true;
}

/** The process environment as the broker reads it: variables, platform and data dir (for doctor and migrate). */
export function hostContext(): { env: Record<string, string | undefined>; platform: string; dataDir: string } {
  return { env: process.env, platform: process.platform, dataDir: resolveDataDir(process.env, process.platform, homedir()) };
}

/**
 * The audit log's path for this environment (`audit` reads it without opening the store);
 * throws DATA_DIR_UNSAFE for a data dir that is not private (see assertPrivateDataDir).
 */
export function auditLogPath(env: Record<string, string | undefined> = process.env): string {
  const dataDir = resolveDataDir(env, process.platform, homedir());
  assertPrivateDataDir(dataDir, process.platform, process.getuid?.());
  return join(dataDir, dataFiles.audit);
}

/**
 * The audit chain key kept in the store `--store`/MCB_STORE picks (read, never created), for
 * `audit --verify`; null with why when there is none to read (a store that cannot be opened,
 * the memory store, a log never keyed).
 */
export async function readAuditKey(storeFlag: string | undefined, env: Record<string, string | undefined> = process.env): Promise<{ key: AuditKey | null; why?: string }> {
  const choice = parseStoreChoice(storeFlag ?? env.MCB_STORE);
  if (choice === "memory") return { key: null, why: "--store memory keeps no audit key" };
  try {
    const { store } = await openStore(choice, resolveDataDir(env, process.platform, homedir()), env);
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

/** MCB_AUDIT_MAX_BYTES: the size at which audit.jsonl is rotated (default 10 MiB). */
function auditMaxBytes(env: Record<string, string | undefined>): number {
  const raw = env.MCB_AUDIT_MAX_BYTES;
  if (raw === undefined || raw === "") return DEFAULT_AUDIT_MAX_BYTES;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1024) throw new BrokerError("INVALID_INPUT", `MCB_AUDIT_MAX_BYTES must be a whole number of bytes, at least 1024 (got '${raw}').`);
  return n;
}

/** MCB_LOGIN_TIMEOUT (seconds, default 300) and MCB_CALLBACK_PORT (default 9876); bad values are ignored with a warning. */
export function loginDefaults(env: Record<string, string | undefined>, log: Logger): { timeoutMs: number; port?: number } {
  const int = (name: string, max: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === "") return undefined;
    const n = Number(raw);
    if (Number.isInteger(n) && n > 0 && n <= max) return n;
    log.warn(`ignoring ${name}=${JSON.stringify(raw.slice(0, 20))}: expected a whole number from 1 to ${max}`);
    return undefined;
  };
  const timeout = int("MCB_LOGIN_TIMEOUT", 3600);
  let port: number | undefined;
  try {
    port = optionalPort(env.MCB_CALLBACK_PORT, "MCB_CALLBACK_PORT");
  } catch (e) {
    log.warn(`${(e as Error).message} Ignoring it: the default callback port is used.`);
  }
  return { timeoutMs: (timeout ?? 300) * 1000, ...(port !== undefined ? { port } : {}) };
}

/** MCB_APPROVAL_TIMEOUT (seconds, default 120): how long an OS dialog or the terminal waits for an answer; bad values are ignored with a warning. */
export function approvalTimeoutMs(env: Record<string, string | undefined>, log: Logger): number {
  const raw = env.MCB_APPROVAL_TIMEOUT;
  if (raw === undefined || raw === "") return 120_000;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1 && n <= 3600) return n * 1000;
  log.warn(`ignoring MCB_APPROVAL_TIMEOUT=${JSON.stringify(raw.slice(0, 20))}: expected a whole number of seconds from 1 to 3600`);
  return 120_000;
}

/**
 * What approving a `confirm` secret needs from this machine: the OS dialog (chosen by
 * platform, programs by absolute path) and the ledger of remembered approvals in the data
 * dir. Only a serving process remembers approvals; every process can revoke them.
 */
export async function approvalDeps(env: Record<string, string | undefined>, dataDir: string, log: Logger, serving: boolean, clock = systemClock) {
  const [{ osApprover }, { FileApprovalLedger, bootId }] = await Promise.all([import("./approval/os.ts"), import("./approval/ledger.ts")]);
  const timeoutMs = approvalTimeoutMs(env, log);
  return {
    os: osApprover({ platform: process.platform, env, timeoutMs }),
    ledger: new FileApprovalLedger({ dataDir, pid: process.pid, boot: bootId(process.platform), now: () => clock.now() }),
    remember: serving,
    timeoutMs,
  };
}

/**
 * Builds the broker from the process environment. `storeFlag` is `--store`, which wins over
 * MCB_STORE. The fallback warning goes to stderr once per data dir and reason
 * (storeWarningIsNew); `quietStoreWarning` leaves printing it to the caller (`status` has it
 * in its report every time), which counts as having said it. `serving`: the MCP server, the
 * one process kind that remembers approvals (`secret policy … --remember`).
 */
export async function openRuntime(opts: { storeFlag?: string; env?: Record<string, string | undefined>; quietStoreWarning?: boolean; serving?: boolean } = {}): Promise<Runtime> {
  const env = opts.env ?? process.env;
  const log = createLogger({ debug: Boolean(env.MCB_DEBUG) });
  const dataDir = resolveDataDir(env, process.platform, homedir());
  // Before anything is read from it or written to it.
  assertPrivateDataDir(dataDir, process.platform, process.getuid?.());
  const storeChoice = parseStoreChoice(opts.storeFlag ?? env.MCB_STORE);
  const { store, reason, warning } = await openStore(storeChoice, dataDir, env);
  const isNew = storeWarningIsNew(dataDir, warning);
  if (warning && !opts.quietStoreWarning) {
    if (isNew) log.warn(`${warning} ${STORE_WARNING_ONCE_NOTE}`);
    else log.debug(`${warning} (said before for this data dir)`);
  }
  const clock = systemClock;
  const revocations = storeChoice === "memory" ? new MemoryRevocationList(() => clock.now()) : new FileRevocationList(join(dataDir, dataFiles.revoked), () => clock.now());
  const withLock = async <T>(name: string, fn: () => Promise<T>, lockOpts?: LockOptions): Promise<T> => {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const release = await acquireLock(join(dataDir, `${name}.lock`), lockOpts);
    try {
      return await fn();
    } finally {
      release();
    }
  };
  // The OAuth side's outside world, loaded on first use: `serve` answers `initialize` without oauth4webapi.
  const oauthBase = async () => {
    const browser = await import("./oauth/browser.ts");
    return {
      store,
      clock,
      log,
      env,
      platform: process.platform,
      // OAuth requests are few and far apart (device polling waits 5-10 s, refreshes an
      // hour): a pooled connection would often be one the server already closed (ECONNRESET).
      fetch: new Bun.FetchSession({ keepAlive: false }).fetch,
      withLock,
      canOpenBrowser: () => browser.browserCommand(env, process.platform) !== null,
      openBrowser: async (url: string) => {
        const cmd = browser.browserCommand(env, process.platform);
        return cmd ? browser.openInBrowser(cmd, url, env) : false;
      },
    };
  };
  let oauth: Promise<OAuthPort> | null = null;
  const loadOAuth = () => {
    oauth ??= Promise.all([import("./oauth/oauth-port.ts"), oauthBase()]).then(([service, base]) => service.createOAuthService(base));
    return oauth;
  };
  const broker = new Broker({
    store,
    clock,
    audit: new FileAuditLog({
      path: join(dataDir, dataFiles.audit),
      now: () => clock.now(),
      maxBytes: auditMaxBytes(env),
      // The chain is keyed with a key kept in the store, not beside the log. The memory store
      // forgets its key with the process: its lines go unkeyed (audit --verify says so).
      ...(storeChoice === "memory"
        ? {}
        : { chainKey: () => loadOrCreateInternalItem({ store, clock, withLock }, AUDIT_CHAIN_KEY, async () => randomBytes(32).toString("base64url")).then((v) => Buffer.from(v, "base64url")) }),
    }),
    revocations,
    jwtSecret: env.JWT_SECRET || undefined,
    withLock,
    oauth: loadOAuth,
    loginDefaults: loginDefaults(env, log),
    approval: await approvalDeps(env, dataDir, log, opts.serving === true, clock),
  });
  const remoteDeps = async (): Promise<RemoteDeps> => ({ ...(await oauthBase()), resolve: (await import("./remote/guarded-fetch.ts")).systemResolver });
  return { broker, dataDir, log, storeChoice, storeReason: reason, ...(warning ? { storeWarning: warning } : {}), env, remoteDeps };
}

/** What `install`, `uninstall` and `doctor` need from the machine: client paths, PATH lookup, spawning. */
export function installDeps(): InstallDeps {
  const env = process.env;
  return {
    env: { platform: process.platform, home: homedir(), appData: env.APPDATA, xdgConfigHome: env.XDG_CONFIG_HOME, cwd: process.cwd() },
    which: (bin) => Bun.which(bin, { PATH: env.PATH ?? "" }) ?? undefined,
    run: (argv) => {
      // No shell: argv goes to the client's CLI as it is. Their config commands are quick.
      const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
      return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.error ? `${r.stderr ?? ""}${(r.error as NodeJS.ErrnoException).code ?? ""}` : (r.stderr ?? "") };
    },
    now: () => Date.now(),
  };
}
