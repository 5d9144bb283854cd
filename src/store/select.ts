// The store-selection policy: which backend `--store` / MCB_STORE picks, what `auto` falls
// back to and why, and the fallback warning said once per data dir (README "Storage").
import { mkdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { Config, InheritedEnv } from "../config.ts";
import { INTERNAL_PREFIX, type Store } from "../core/store.ts";
import { BrokerError } from "../errors.ts";
import { writeFileAtomic } from "../files/atomic-write.ts";
import { readDataFile } from "../files/data-files.ts";
import { dataFiles } from "../paths.ts";
import type { KeychainItems, KeychainProbe } from "./keychain.ts";

export const STORE_CHOICES = ["auto", "keychain", "file", "memory"] as const;
export type StoreChoice = (typeof STORE_CHOICES)[number];

/** Parses `--store` / MCB_STORE, throwing a usage error that lists the choices. */
export function parseStoreChoice(raw: string | undefined): StoreChoice {
  // An empty value is unset: an MCP Bundle host passes a cleared settings field as "".
  const v = (raw?.trim() || "auto").toLowerCase();
  if ((STORE_CHOICES as readonly string[]).includes(v)) return v as StoreChoice;
  throw new BrokerError("INVALID_INPUT", `Unknown store '${raw}'. Use one of: ${STORE_CHOICES.join(", ")} (flag --store or MCB_STORE).`);
}

/** Parses `secret migrate --from/--to`: only the two persistent backends, file and keychain (auto and memory are not places secrets can move to or from). */
export function parseMigrationBackend(raw: unknown, flag: string): Extract<StoreChoice, "file" | "keychain"> {
  const v = String(raw ?? "").toLowerCase();
  if (v === "file" || v === "keychain") return v;
  throw new BrokerError("INVALID_INPUT", `--${flag} must be file or keychain.`);
}

/** The store a choice resolved to, why, and for `auto` falling back to the file store, the warning to print. */
export interface StoreSelection {
  store: Store;
  reason: string;
  warning?: string;
  /** With the fallback: how many secrets this data dir kept in the keychain earlier (out of reach until it answers). */
  stranded?: number;
}

/** What opening a store reads from the configuration (src/config.ts: storeSettings). */
export interface StoreSettings {
  /** MCB_STORE_KEY: the file store's passphrase. */
  key?: string;
  /** MCB_KEYCHAIN_SERVICE. */
  keychainService?: string;
  /** The environment the keychain helpers run in (Config.inherited); none when absent. */
  helperEnv?: InheritedEnv;
}

/** A configuration's store settings. */
export function storeSettings(config: Pick<Config, "store" | "inherited">): StoreSettings {
  return { key: config.store.key, keychainService: config.store.keychainService, helperEnv: config.inherited };
}

export interface OpenStoreOptions {
  platform?: string;
  /** The platform keychain to use instead of the real one (tests); null = none on this platform. */
  keychain?: KeychainItems | null;
}

/**
 * The OS keychain of `platform`, its helper at an absolute path and run in `env` (the
 * inherited environment: secret-tool needs the D-Bus session, PowerShell SystemRoot);
 * null where the broker has no keychain backend.
 */
export async function platformKeychain(platform: string, env: InheritedEnv): Promise<KeychainItems | null> {
  if (platform === "darwin") {
    const { MacKeychain } = await import("./macos.ts");
    return new MacKeychain({ env });
  }
  if (platform === "win32") {
    const { WindowsCredentialManager, windowsPowerShellPath } = await import("./windows.ts");
    return new WindowsCredentialManager({ powershell: windowsPowerShellPath(env), env });
  }
  if (platform === "linux" || platform === "freebsd" || platform === "openbsd") {
    const [{ LinuxSecretService }, { findSystemTool }] = await Promise.all([import("./linux.ts"), import("./exec.ts")]);
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
export async function openStore(choice: StoreChoice, dataDir: string, settings: StoreSettings, opts: OpenStoreOptions = {}): Promise<StoreSelection> {
  const platform = opts.platform ?? process.platform;
  if (choice === "memory") {
    const { MemoryStore } = await import("./memory.ts");
    return { store: new MemoryStore(), reason: "--store memory / MCB_STORE=memory" };
  }
  const openFile = async () => {
    const { FileStore } = await import("./file.ts");
    return new FileStore({ dir: dataDir, passphrase: settings.key });
  };
  if (choice === "file") return { store: await openFile(), reason: "--store file / MCB_STORE=file" };
  const items = opts.keychain !== undefined ? opts.keychain : await platformKeychain(platform, settings.helperEnv ?? {});
  const probe = await probeKeychain(items, platform);
  if (items && probe.state !== "unavailable") {
    const { KeychainStore } = await import("./keychain.ts");
    const store = new KeychainStore({ items, dir: dataDir, service: settings.keychainService || undefined });
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

