// The OS keychain backend: a Store over one platform's keychain items (macos.ts, linux.ts,
// windows.ts), with a metadata index in the data dir for listing and a read cache that a
// hot get_secret serves without spawning anything.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { removeDeadWritersFiles } from "../files/atomic-write.ts";
import { BrokerError } from "../errors.ts";
import { dataFiles } from "../paths.ts";
import { decodeRecord, encodeRecord, joinParts, parseManifest, partService, splitPayload } from "./keychain-codec.ts";
import { KeychainIndexFile, type IndexEntry } from "./keychain-index.ts";
import { acquireLock } from "../files/lock-file.ts";
import { SecretRecordSchema, toEntry, type SecretEntry, type SecretRecord, type Store } from "../core/store.ts";

/** The service name items are kept under, unless MCB_KEYCHAIN_SERVICE names another. */
export const DEFAULT_KEYCHAIN_SERVICE = "mcp-credentials-broker";

/** One keychain item: its address and ASCII payload. */
export interface KeychainItem {
  service: string;
  account: string;
  payload: string;
}

/** What a keychain said when asked whether it can be used. */
export type KeychainProbe =
  | { state: "ready"; detail: string }
  | { state: "locked"; detail: string; fix: string }
  | { state: "unavailable"; why: string; fix: string };

/**
 * One platform keychain seen as ASCII payloads addressed by (service, account). `read`
 * returns null for a missing item and throws a BrokerError (KEYCHAIN_LOCKED,
 * KEYCHAIN_DENIED, BACKEND_UNAVAILABLE) for everything else; a payload never reaches argv.
 */
export interface KeychainItems {
  readonly kind: "macos" | "linux" | "windows";
  /** One line for status/doctor: which keychain, through which helper. */
  readonly description: string;
  /** The longest payload one item holds; longer ones are split over several items. */
  readonly maxItemChars: number;
  read(service: string, account: string): Promise<string | null>;
  write(service: string, account: string, payload: string): Promise<void>;
  /** True when an item was removed, false when there was none. */
  remove(service: string, account: string): Promise<boolean>;
  /** Optional: writes several items in order at the cost of one helper run (one spawn), or throws. */
  writeMany?(items: readonly KeychainItem[]): Promise<void>;
  /** Optional: reads several items at the cost of one helper run; null for each missing one. */
  readMany?(keys: readonly Omit<KeychainItem, "payload">[]): Promise<(string | null)[]>;
  /** Whether the keychain answers now. `thorough` may spend more time (doctor) than a start-up check. */
  probe(thorough?: boolean): Promise<KeychainProbe>;
}

export interface KeychainStoreOptions {
  items: KeychainItems;
  /** The data dir, for the index and lock files. */
  dir: string;
  service?: string;
}

/**
 * A Store in the OS keychain. Each secret is one item (or a head item plus parts) holding
 * the whole record; the index file in the data dir holds names and metadata only, so
 * `list` reads no keychain item. Writes run under the data dir's keychain lock and end by
 * replacing the index, whose changed identity makes every process drop its cached reads.
 */
export class KeychainStore implements Store {
  readonly backend = "keychain" as const;
  readonly description: string;
  readonly items: KeychainItems;
  readonly #service: string;
  readonly #index: KeychainIndexFile;
  readonly #lockPath: string;
  /** Records (null = known missing) valid while the index's stamp equals `stamp`. */
  #cache: { stamp: string; records: Map<string, SecretRecord | null> } = { stamp: "\0", records: new Map() };

  constructor(opts: KeychainStoreOptions) {
    this.items = opts.items;
    this.#service = opts.service ?? DEFAULT_KEYCHAIN_SERVICE;
    this.#index = new KeychainIndexFile(join(opts.dir, dataFiles.keychainIndex), this.#service);
    this.#lockPath = join(opts.dir, dataFiles.keychainLock);
    this.description = `keychain: ${opts.items.description}, service '${this.#service}' (index of names: ${this.#index.path})`;
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    // writeFileAtomic's temp names: <file>.<pid>.<8 hex>.tmp
    removeDeadWritersFiles(opts.dir, /^keychain-index\.json\.(\d+)\.[0-9a-f]{8}\.tmp$/);
  }

  async get(name: string): Promise<SecretRecord | null> {
    const stamp = this.#index.stamp();
    const cached = this.#cached(stamp, name);
    if (cached !== undefined) return cached && structuredClone(cached);
    const record = await this.#fetch(name);
    // Cache only if no write (ours or another process's) happened meanwhile.
    if (this.#cache.stamp === stamp) this.#cache.records.set(name, record);
    return record && structuredClone(record);
  }

  async set(name: string, record: SecretRecord): Promise<void> {
    // The index is JSON: a "__proto__" key would be dropped on load, losing an acknowledged write.
    if (name === "__proto__") throw new BrokerError("INVALID_INPUT", "The name '__proto__' cannot be stored in the keychain backend. Choose another name.");
    const parsed = SecretRecordSchema.parse(structuredClone(record));
    await this.#mutate(name, async () => {
      const { head, parts, id } = splitPayload(encodeRecord(parsed), this.items.maxItemChars, () => randomBytes(6).toString("hex"));
      // Parts first, head last: until the head names them, new parts are invisible, so a
      // crash mid-write leaves the previous value readable.
      const partItems = parts.map((payload, i) => ({ service: partService(this.#service, id!, i), account: name, payload }));
      if (this.items.writeMany && partItems.length > 0) await this.items.writeMany(partItems);
      else for (const p of partItems) await this.items.write(p.service, p.account, p.payload);
      await this.items.write(this.#service, name, head);
      const { name: _name, ...meta } = toEntry(name, parsed);
      return { entry: id ? { ...meta, parts: { id, count: parts.length } } : meta, record: parsed, changed: true };
    });
  }

  async delete(name: string): Promise<boolean> {
    let removed = false;
    const indexed = await this.#mutate(name, async (old) => {
      removed = await this.items.remove(this.#service, name);
      return { entry: undefined, record: null, changed: removed || old !== undefined };
    });
    return removed || indexed;
  }

  async list(): Promise<SecretEntry[]> {
    return Object.entries(this.#index.load().entries).map(([name, { parts: _p, ...meta }]) => ({ name, ...structuredClone(meta) }));
  }

  async close(): Promise<void> {
    this.#cache.records.clear();
  }

  /** The cached record (null = known missing), or undefined when it must be fetched. */
  #cached(stamp: string, name: string): SecretRecord | null | undefined {
    if (this.#cache.stamp !== stamp) this.#cache = { stamp, records: new Map() };
    return this.#cache.records.get(name);
  }

  async #fetch(name: string): Promise<SecretRecord | null> {
    const head = await this.items.read(this.#service, name);
    if (head === null) return null;
    const manifest = parseManifest(head, name);
    if (!manifest) return decodeRecord(head, name);
    const keys = Array.from({ length: manifest.count }, (_, i) => ({ service: partService(this.#service, manifest.id, i), account: name }));
    let parts: (string | null)[] = [];
    if (this.items.readMany) parts = await this.items.readMany(keys);
    else for (const k of keys) parts.push(await this.items.read(k.service, k.account));
    return decodeRecord(joinParts(manifest, parts, name), name);
  }

  /**
   * Runs one change of `name` under the lock and returns whether the index listed it
   * before. `change` writes the keychain items and returns the new index entry (undefined
   * = none) and record. The index is saved last, which invalidates other processes'
   * caches; ours survives when nobody else wrote since it was filled.
   */
  async #mutate(
    name: string,
    change: (old: IndexEntry | undefined) => Promise<{ entry: IndexEntry | undefined; record: SecretRecord | null; changed: boolean }>,
  ): Promise<boolean> {
    const release = await acquireLock(this.#lockPath);
    try {
      const before = this.#index.stamp();
      const index = this.#index.load();
      const old = Object.hasOwn(index.entries, name) ? index.entries[name] : undefined;
      const { entry, record, changed } = await change(old);
      if (!changed) return old !== undefined;
      const entries = { ...index.entries };
      if (entry) entries[name] = entry;
      else delete entries[name];
      const after = this.#index.save({ ...index, entries });
      const records = this.#cache.stamp === before ? this.#cache.records : new Map<string, SecretRecord | null>();
      records.set(name, record);
      this.#cache = { stamp: after, records };
      if (old?.parts) await this.#removeParts(name, old.parts);
      return old !== undefined;
    } finally {
      release();
    }
  }

  /** Removes the parts of a value that was replaced or deleted. Best effort: a leftover part is unreachable, not a leak into listings. */
  async #removeParts(name: string, parts: { id: string; count: number }): Promise<void> {
    for (let i = 0; i < parts.count; i++) {
      try {
        await this.items.remove(partService(this.#service, parts.id, i), name);
      } catch {
        /* left behind; the next write of this name does not depend on it */
      }
    }
  }
}
