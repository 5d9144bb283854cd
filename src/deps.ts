// The composition root: the one place that reads the environment and builds real adapters.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { InstallDeps } from "./clients/install.ts";
import { DEFAULT_AUDIT_MAX_BYTES, FileAuditLog } from "./core/audit.ts";
import { Broker, type OAuthPort } from "./core/broker.ts";
import { systemClock } from "./core/clock.ts";
import { FileRevocationList, MemoryRevocationList } from "./core/revocations.ts";
import { BrokerError } from "./errors.ts";
import { createLogger, type Logger } from "./log.ts";
import { dataFiles, resolveDataDir } from "./paths.ts";
import { acquireLock, type LockOptions } from "./store/lock-file.ts";
import type { Store } from "./store/store.ts";

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
  /** The environment the runtime was built from (provider variables, for `provider list`). */
  env: Record<string, string | undefined>;
}

/** Parses `--store` / MCB_STORE, throwing a usage error that lists the choices. */
export function parseStoreChoice(raw: string | undefined): StoreChoice {
  const v = (raw ?? "auto").toLowerCase();
  if ((STORE_CHOICES as readonly string[]).includes(v)) return v as StoreChoice;
  throw new BrokerError("INVALID_INPUT", `Unknown store '${raw}'. Use one of: ${STORE_CHOICES.join(", ")} (flag --store or MCB_STORE).`);
}

/** Picks and opens the store for a choice; returns it with the reason shown by `status`. */
export async function openStore(choice: StoreChoice, dataDir: string, env: Record<string, string | undefined>): Promise<{ store: Store; reason: string }> {
  switch (choice) {
    case "memory": {
      const { MemoryStore } = await import("./store/memory.ts");
      return { store: new MemoryStore(), reason: "--store memory / MCB_STORE=memory" };
    }
    case "keychain":
      throw new BrokerError("BACKEND_UNAVAILABLE", "The OS keychain backend is not available in this version yet. Use --store file (the default), optionally encrypted with MCB_STORE_KEY.");
    case "file":
    case "auto": {
      const { FileStore } = await import("./store/file.ts");
      const store = new FileStore({ dir: dataDir, passphrase: env.MCB_STORE_KEY });
      return { store, reason: choice === "file" ? "--store file / MCB_STORE=file" : "auto: file backend; OS keychain backends are not in this version yet" };
    }
  }
}

/** The audit log's path for this environment (`audit` reads it without opening the store). */
export function auditLogPath(env: Record<string, string | undefined> = process.env): string {
  return join(resolveDataDir(env, process.platform, homedir()), dataFiles.audit);
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
  const port = int("MCB_CALLBACK_PORT", 65535);
  return { timeoutMs: (timeout ?? 300) * 1000, ...(port !== undefined ? { port } : {}) };
}

/** Builds the broker from the process environment. `storeFlag` is `--store`, which wins over MCB_STORE. */
export async function openRuntime(opts: { storeFlag?: string; env?: Record<string, string | undefined> } = {}): Promise<Runtime> {
  const env = opts.env ?? process.env;
  const log = createLogger({ debug: Boolean(env.MCB_DEBUG) });
  const dataDir = resolveDataDir(env, process.platform, homedir());
  const storeChoice = parseStoreChoice(opts.storeFlag ?? env.MCB_STORE);
  const { store, reason } = await openStore(storeChoice, dataDir, env);
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
  // OAuth is loaded on first use: `serve` answers `initialize` without oauth4webapi.
  let oauth: Promise<OAuthPort> | null = null;
  const loadOAuth = () => {
    oauth ??= Promise.all([import("./oauth/service.ts"), import("./oauth/browser.ts")]).then(([service, browser]) =>
      service.createOAuthService({
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
        openBrowser: async (url) => {
          const cmd = browser.browserCommand(env, process.platform);
          return cmd ? browser.openInBrowser(cmd, url, env) : false;
        },
      }),
    );
    return oauth;
  };
  const broker = new Broker({
    store,
    clock,
    audit: new FileAuditLog({ path: join(dataDir, dataFiles.audit), now: () => clock.now(), maxBytes: auditMaxBytes(env) }),
    revocations,
    jwtSecret: env.JWT_SECRET || undefined,
    withLock,
    oauth: loadOAuth,
    loginDefaults: loginDefaults(env, log),
  });
  return { broker, dataDir, log, storeChoice, storeReason: reason, env };
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
