// What `doctor` checks: which store is in use and why, whether its records all read back (a
// damaged file or item, a wrong MCB_STORE_KEY), whether the OS keychain answers (or is
// locked), and whether the data dir and its files are private to the user.
import { lstatSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "./config.ts";
import { openStore, parseStoreChoice, platformKeychain, probeKeychain, storeSettings } from "./store/select.ts";
import { describeError, isBrokerError } from "./errors.ts";
import { dataFiles } from "./paths.ts";
import { TORN_KEEP, tornFiles } from "./files/torn-files.ts";
import type { KeychainItems, KeychainProbe } from "./store/keychain.ts";
import type { Store } from "./core/store.ts";

export interface Finding {
  level: "ok" | "warn" | "fail";
  check: string;
  message: string;
  fix?: string;
}

export interface Diagnosis {
  dataDir: string;
  store: { choice: string; backend?: string; description?: string; reason?: string };
  keychain: KeychainProbe;
  findings: Finding[];
}

export interface DiagnoseOptions {
  storeFlag?: string;
  /** MCB_STORE, MCB_STORE_KEY, MCB_KEYCHAIN_SERVICE and the keychain helpers' environment. */
  config: Pick<Config, "store" | "inherited">;
  platform: string;
  dataDir: string;
  /** The keychain to probe instead of the platform's (tests); null = none. */
  keychain?: KeychainItems | null;
  /** This user's uid, where the platform has one. */
  uid?: number;
}

/** Runs every check; never throws for a failed check (it becomes a "fail" finding). */
export async function diagnose(opts: DiagnoseOptions): Promise<Diagnosis> {
  const findings: Finding[] = [];
  const choice = parseStoreChoice(opts.storeFlag ?? opts.config.store.choice);
  const items = opts.keychain !== undefined ? opts.keychain : await platformKeychain(opts.platform, opts.config.inherited);
  const keychain = await probeKeychain(items, opts.platform, true);
  const store: Diagnosis["store"] = { choice };
  // Before opening a store, which would create the data dir.
  const dataDirFindings = checkDataDir(opts.dataDir, opts.platform, opts.uid);

  try {
    const s = await openStore(choice, opts.dataDir, storeSettings(opts.config), { platform: opts.platform, keychain: items });
    Object.assign(store, { backend: s.store.backend, description: s.store.description, reason: s.reason });
    const message = `${s.store.description} — ${s.reason}`;
    findings.push(s.warning ? { level: "warn", check: "store", message, fix: "make the OS keychain answer (see below), or set MCB_STORE=file to use the file store on purpose" } : { level: "ok", check: "store", message });
    // The rest of the fallback warning, which other commands say only once (src/store/select.ts storeWarningIsNew).
    if (s.stranded) findings.push({ level: "warn", check: "store", message: `${s.stranded} secret(s) stored in the OS keychain earlier are out of reach until it answers`, fix: "make the OS keychain answer (see below)" });
    try {
      findings.push(await readEveryRecord(s.store, opts.dataDir));
      if (s.store.backend !== "file") findings.push(...(await strandedFileSecrets(opts)));
    } finally {
      await s.store.close();
    }
  } catch (e) {
    findings.push({ level: "fail", check: "store", message: describeError(e) });
  }

  if (keychain.state === "ready") findings.push({ level: "ok", check: "keychain", message: `OS keychain answers: ${keychain.detail}` });
  else if (keychain.state === "locked") findings.push({ level: "warn", check: "keychain", message: `OS keychain is locked: ${keychain.detail}`, fix: keychain.fix });
  else findings.push({ level: choice === "keychain" ? "fail" : "warn", check: "keychain", message: `OS keychain unavailable: ${keychain.why}`, fix: keychain.fix });

  findings.push(...dataDirFindings, ...tornCopies(opts.dataDir));
  return { dataDir: opts.dataDir, store, keychain, findings };
}

/**
 * Opening a store reads nothing, so a damaged file, keychain item or index, or a wrong
 * MCB_STORE_KEY, would pass unnoticed: list every record and read (parse, decrypt) each one,
 * as a `get_secret` would. Values stay in memory and are dropped; nothing is written.
 */
async function readEveryRecord(store: Store, dataDir: string): Promise<Finding> {
  let names: string[];
  try {
    names = (await store.list()).map((e) => e.name);
  } catch (e) {
    return unreadable(e, store, dataDir);
  }
  for (const name of names) {
    try {
      await store.get(name);
    } catch (e) {
      return unreadable(e, store, dataDir, name);
    }
  }
  return { level: "ok", check: "store data", message: `${names.length} record(s) read and parsed` };
}

/** A failed read as a finding, with the fix for the kinds a user can repair. */
function unreadable(e: unknown, store: Store, dataDir: string, name?: string): Finding {
  const message = describeError(e);
  const secrets = join(dataDir, dataFiles.secrets);
  let fix: string | undefined;
  if (isBrokerError(e, "STORE_KEY_INVALID")) fix = "set MCB_STORE_KEY to the passphrase the store was written with";
  else if (isBrokerError(e, "STORE_CORRUPT")) {
    fix =
      name !== undefined && store.backend === "keychain"
        ? `mcp-credentials-broker secret rm ${JSON.stringify(name)}, then store it again`
        : store.backend === "file"
          ? `move ${secrets} aside (keep the copy: its readable lines can be restored by hand), then store your secrets again`
          : undefined;
  }
  return { level: "fail", check: "store data", message: name === undefined ? message : `reading '${name}': ${message}`, ...(fix ? { fix } : {}) };
}

/** Secrets left in secrets.jsonl while another backend is in use: invisible until migrated. */
async function strandedFileSecrets(opts: DiagnoseOptions): Promise<Finding[]> {
  try {
    statSync(join(opts.dataDir, dataFiles.secrets));
  } catch {
    return [];
  }
  try {
    const file = (await openStore("file", opts.dataDir, storeSettings(opts.config))).store;
    const n = (await file.list()).length;
    return n === 0 ? [] : [{ level: "warn", check: "file store", message: `${n} record(s) are still in ${join(opts.dataDir, dataFiles.secrets)} and not used by this backend`, fix: "mcp-credentials-broker secret migrate --from file --to keychain" }];
  } catch (e) {
    return [{ level: "warn", check: "file store", message: `${join(opts.dataDir, dataFiles.secrets)} exists but cannot be read: ${describeError(e)}` }];
  }
}

/**
 * Copies of interrupted writes a writer cut off the secrets log or the audit log
 * (`*.torn-<time>`, see src/files/torn-files.ts): never acknowledged, but a torn secrets line may hold
 * part of a value. Listed so the user knows; removed by the broker after TORN_KEEP.
 */
function tornCopies(dir: string): Finding[] {
  const days = TORN_KEEP.maxAgeMs / 86_400_000;
  return [dataFiles.secrets, dataFiles.audit].flatMap((log) => {
    const files = tornFiles(join(dir, log));
    if (files.length === 0) return [];
    const what = log === dataFiles.secrets ? "may hold part of a secret value that was never stored" : "hold part of an audit line that was never written whole";
    return [{
      level: "warn" as const,
      check: "torn writes",
      message: `${files.length} cop${files.length === 1 ? "y" : "ies"} of interrupted writes cut off ${log}, which ${what}: ${files.map((f) => `${f.path} (${f.size} bytes, ${new Date(f.mtimeMs).toISOString()})`).join(", ")}. The broker removes them after ${days} days (at most ${TORN_KEEP.maxCount} kept)`,
      fix: `look at them if a write went missing, then remove them: rm ${join(dir, log)}.torn-*`,
    }];
  });
}

/** The data dir and every file in it must be private to this user (0700 / 0600, owned by us). */
export function checkDataDir(dir: string, platform: string, uid?: number): Finding[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dir);
  } catch {
    return [{ level: "ok", check: "data dir", message: `${dir} does not exist yet (created 0700 on first write)` }];
  }
  // Windows has no POSIX modes: its ACLs are not checked here.
  if (platform === "win32") return [{ level: "ok", check: "data dir", message: dir }];
  const findings: Finding[] = [];
  const mode = (m: number) => (m & 0o777).toString(8).padStart(4, "0");
  if (uid !== undefined && st.uid !== uid) {
    findings.push({ level: "fail", check: "data dir", message: `${dir} belongs to uid ${st.uid}, not to you (uid ${uid})`, fix: `use your own data dir (MCB_HOME), or chown -R ${uid} ${dir}` });
  }
  // Writable by others: the broker refuses to use it (src/files/data-files.ts); readable: a warning.
  if (st.mode & 0o022) findings.push({ level: "fail", check: "data dir", message: `${dir} is writable by other users (mode ${mode(st.mode)}): the broker refuses to use it`, fix: `chmod 700 ${dir}` });
  else if (st.mode & 0o077) findings.push({ level: "warn", check: "data dir", message: `${dir} is open to other users (mode ${mode(st.mode)})`, fix: `chmod 700 ${dir}` });
  else findings.push({ level: "ok", check: "data dir", message: `${dir} (mode ${mode(st.mode)})` });
  for (const name of readdirSync(dir)) {
    const f = lstatSync(join(dir, name));
    if (f.isSymbolicLink()) findings.push({ level: "fail", check: "data files", message: `${join(dir, name)} is a symbolic link: the broker opens none of its files through a link`, fix: `check who made it, then remove it: rm ${join(dir, name)}` });
    else if (f.isFile() && f.mode & 0o077) findings.push({ level: "warn", check: "data files", message: `${join(dir, name)} is open to other users (mode ${mode(f.mode)})`, fix: `chmod 600 ${join(dir, name)}` });
  }
  return findings;
}
