// File backend: one JSON file in the data dir, 0600, replaced atomically under a lock,
// optionally sealed with AES-256-GCM under a key derived from MCB_STORE_KEY.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { BrokerError } from "../errors.ts";
import { dataFiles } from "../paths.ts";
import { acquireLock, isProcessAlive } from "./lock-file.ts";
import { SecretRecordSchema, toEntry, type SecretEntry, type SecretRecord, type Store } from "./store.ts";

const PlainFileSchema = z.object({
  version: z.literal(1),
  secrets: z.record(z.string(), SecretRecordSchema),
});
const SealedFileSchema = z.object({
  version: z.literal(1),
  sealed: z.object({
    alg: z.literal("A256GCM"),
    kdf: z.literal("scrypt"),
    salt: z.string(),
    iv: z.string(),
    tag: z.string(),
    data: z.string(),
  }),
});
type Secrets = Record<string, SecretRecord>;

// scrypt cost: ≈30 ms once per process; the salt is kept across rewrites so one
// derivation serves every write.
const SCRYPT = { N: 1 << 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export interface FileStoreOptions {
  dir: string;
  /** MCB_STORE_KEY: when set, the file is encrypted; an encrypted file needs it to load. */
  passphrase?: string;
}

/**
 * A Store in `secrets.json`. Every write takes the lock, re-reads the file, applies the
 * change and renames a fully written temp file over it, so concurrent broker processes
 * lose nothing and a process killed at any point leaves the last acknowledged state.
 * Reads are served from memory while the file's identity (inode, mtime, size) is unchanged.
 */
export class FileStore implements Store {
  readonly backend = "file" as const;
  readonly description: string;
  readonly #path: string;
  readonly #lockPath: string;
  readonly #passphrase: string | undefined;
  #cache: { stamp: string; secrets: Secrets; salt?: Buffer } | null = null;
  #key: { salt: string; key: Buffer } | null = null;

  constructor(opts: FileStoreOptions) {
    this.#path = join(opts.dir, dataFiles.secrets);
    this.#lockPath = join(opts.dir, dataFiles.secretsLock);
    this.#passphrase = opts.passphrase || undefined;
    this.description = `file: ${this.#path}${this.#passphrase ? " (AES-256-GCM, key from MCB_STORE_KEY)" : " (not encrypted: set MCB_STORE_KEY to encrypt)"}`;
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    removeOrphanTempFiles(opts.dir);
  }

  get path(): string {
    return this.#path;
  }

  async get(name: string): Promise<SecretRecord | null> {
    const secrets = this.#load().secrets;
    // Own keys only: "constructor" or "toString" must not find Object.prototype's.
    const r = Object.hasOwn(secrets, name) ? secrets[name] : undefined;
    return r ? structuredClone(r) : null;
  }

  async set(name: string, record: SecretRecord): Promise<void> {
    // Assigning or parsing a "__proto__" key sets a prototype instead (zod drops it on
    // load too), so the write would be acknowledged and lost: refuse it instead.
    if (name === "__proto__") throw new BrokerError("INVALID_INPUT", "The name '__proto__' cannot be stored in the file backend. Choose another name.");
    const parsed = SecretRecordSchema.parse(record);
    await this.#mutate((s) => {
      s[name] = parsed;
      return true;
    });
  }

  async delete(name: string): Promise<boolean> {
    return this.#mutate((s) => {
      if (!Object.hasOwn(s, name)) return false;
      delete s[name];
      return true;
    });
  }

  async list(): Promise<SecretEntry[]> {
    return Object.entries(this.#load().secrets).map(([n, r]) => toEntry(n, r));
  }

  async close(): Promise<void> {
    // Every write is complete when set/delete resolves; nothing is buffered.
  }

  /** Identity of the file now, or "" when it does not exist. */
  #stamp(): string {
    try {
      const st = statSync(this.#path, { bigint: true });
      return `${st.ino}:${st.mtimeNs}:${st.size}`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
      throw this.#ioError("read", e);
    }
  }

  #load(): { secrets: Secrets; salt?: Buffer } {
    const stamp = this.#stamp();
    if (this.#cache && this.#cache.stamp === stamp) return this.#cache;
    let loaded: { secrets: Secrets; salt?: Buffer };
    if (stamp === "") {
      loaded = { secrets: {} };
    } else {
      let raw: string;
      try {
        raw = readFileSync(this.#path, "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return this.#load();
        throw this.#ioError("read", e);
      }
      loaded = this.#decode(raw);
    }
    this.#cache = { stamp, ...loaded };
    return loaded;
  }

  #decode(raw: string): { secrets: Secrets; salt?: Buffer } {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw this.#corrupt();
    }
    const sealed = SealedFileSchema.safeParse(json);
    if (sealed.success) {
      if (!this.#passphrase) {
        throw new BrokerError("STORE_KEY_INVALID", `${this.#path} is encrypted. Set MCB_STORE_KEY to the passphrase it was written with.`);
      }
      const s = sealed.data.sealed;
      const salt = Buffer.from(s.salt, "base64");
      let plain: string;
      try {
        const d = createDecipheriv("aes-256-gcm", this.#deriveKey(salt), Buffer.from(s.iv, "base64"));
        d.setAuthTag(Buffer.from(s.tag, "base64"));
        plain = Buffer.concat([d.update(Buffer.from(s.data, "base64")), d.final()]).toString("utf8");
      } catch {
        throw new BrokerError("STORE_KEY_INVALID", `MCB_STORE_KEY does not decrypt ${this.#path} (wrong passphrase, or the file was altered). Set the passphrase it was written with.`);
      }
      const inner = PlainFileSchema.safeParse(JSON.parse(plain));
      if (!inner.success) throw this.#corrupt();
      return { secrets: inner.data.secrets, salt };
    }
    const plain = PlainFileSchema.safeParse(json);
    if (!plain.success) throw this.#corrupt();
    return { secrets: plain.data.secrets };
  }

  #encode(secrets: Secrets, salt: Buffer | undefined): string {
    const body = JSON.stringify({ version: 1, secrets });
    if (!this.#passphrase) return body;
    const s = salt ?? randomBytes(16);
    const iv = randomBytes(12); // NIST SP 800-38D: 96-bit random IV, fresh per encryption
    const c = createCipheriv("aes-256-gcm", this.#deriveKey(s), iv);
    const data = Buffer.concat([c.update(body, "utf8"), c.final()]);
    return JSON.stringify({
      version: 1,
      sealed: { alg: "A256GCM", kdf: "scrypt", salt: s.toString("base64"), iv: iv.toString("base64"), tag: c.getAuthTag().toString("base64"), data: data.toString("base64") },
    });
  }

  #deriveKey(salt: Buffer): Buffer {
    const id = salt.toString("base64");
    if (this.#key?.salt !== id) this.#key = { salt: id, key: scryptSync(this.#passphrase ?? "", salt, 32, SCRYPT) };
    return this.#key.key;
  }

  async #mutate<T>(change: (s: Secrets) => T): Promise<T> {
    const release = await acquireLock(this.#lockPath);
    try {
      const current = this.#load();
      const secrets = { ...current.secrets };
      const result = change(secrets);
      if (result === false) return result;
      this.#writeAtomically(this.#encode(secrets, current.salt));
      this.#cache = null;
      return result;
    } finally {
      release();
    }
  }

  /** Writes a temp file (0600 from creation, never a wider window), fsyncs, renames over. */
  #writeAtomically(content: string): void {
    const tmp = `${this.#path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      const fd = openSync(tmp, "wx", 0o600);
      try {
        writeSync(fd, content);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.#path);
    } catch (e) {
      try { unlinkSync(tmp); } catch { /* never created */ }
      throw this.#ioError("write", e);
    }
  }

  #corrupt(): BrokerError {
    return new BrokerError("STORE_CORRUPT", `${this.#path} is not a valid secrets file. Move it aside (it may be restored by hand) and run the command again.`);
  }

  #ioError(op: string, e: unknown): BrokerError {
    return new BrokerError("IO_ERROR", `Cannot ${op} ${this.#path}: ${(e as NodeJS.ErrnoException).code ?? "error"}. Check that the data directory is writable by you (MCB_HOME).`, { cause: e });
  }
}

/**
 * A writer killed between creating its temp file and renaming it leaves a copy of the
 * secrets behind; remove those whose writer is gone so no stray copy lingers.
 */
function removeOrphanTempFiles(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^secrets\.(?:json|lock)\.(\d+)\.[0-9a-f]+(?:\.tmp)?$/.exec(n);
    if (m && Number(m[1]) !== process.pid && !isProcessAlive(Number(m[1]))) {
      try { unlinkSync(join(dir, n)); } catch { /* already gone */ }
    }
  }
}
