// File backend: an append-only log in the data dir (0600), one line per change, written
// under a cross-process lock, compacted by atomic rename, optionally sealed with
// AES-256-GCM under a key derived from MCB_STORE_KEY.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";
import { closeSync, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { removeDeadWritersFiles } from "../files/atomic-write.ts";
import { BrokerError, fsFix } from "../errors.ts";
import { openDataFile } from "../files/data-files.ts";
import { dataFiles, fileInTheWay } from "../paths.ts";
import { keepTornBytes, lastByte, pruneTornFiles, writeWhole } from "../files/torn-files.ts";
import { acquireLock, tryAcquireLock } from "../files/lock-file.ts";
import { SecretRecordSchema, toEntry, type SecretEntry, type SecretRecord, type Store } from "../core/store.ts";

const FORMAT = "mcp-credentials-broker/secrets-log";
const Sealed = z.object({ iv: z.string(), data: z.string(), tag: z.string() });
const HeaderSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(1),
  sealed: z.object({ alg: z.literal("A256GCM"), kdf: z.literal("scrypt"), salt: z.string(), check: Sealed }).optional(),
});
type Header = z.infer<typeof HeaderSchema>;
const OpSchema = z.union([z.object({ set: z.string(), record: SecretRecordSchema }).strict(), z.object({ delete: z.string() }).strict()]);
type Op = z.infer<typeof OpSchema>;

// scrypt cost: ≈30 ms once per process; the salt lives in the header, so one derivation
// serves every line.
const SCRYPT = { N: 1 << 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
// A known plaintext sealed in the header: a wrong passphrase is caught on open, before
// anything is appended under the wrong key.
const KEY_CHECK = "mcp-credentials-broker key check";
// Compact when the log holds this many more lines than live records.
const COMPACT_SLACK = 256;

export interface FileStoreOptions {
  dir: string;
  /** MCB_STORE_KEY: when set, the file is encrypted; an encrypted file needs it to load. */
  passphrase?: string;
}

/** What this process has read of the log so far. */
interface LogState {
  /** Inode of the file read (number stats: bigint ones cost 2.5× as much on the hot path). */
  ino: number;
  /** Bytes consumed: always just after a newline. */
  offset: number;
  /** Newline-terminated lines consumed (the header included): error messages name line numbers. */
  lineNo: number;
  /** Bytes after the last newline (a write in progress, or a writer killed mid-line). */
  partial: boolean;
  /** Those bytes, when `partial`. */
  tail: Buffer | null;
  /**
   * The tail when it is a whole record that lacks only its newline (a writer stopped just
   * before it, or a file cut at a line's end): read as stored, completed by the next writer.
   */
  tailOp: Op | null;
  /** File size when last read: unchanged inode, size and mtime (and no tail) mean nothing to read. */
  seen: number;
  /** The file's mtime (ms, sub-ms precision) when last read or written by us. */
  mtimeMs: number;
  header: Header | null;
  secrets: Map<string, SecretRecord>;
  /** Change lines applied (against the live records: when to compact). */
  lines: number;
  /**
   * Torn writes found glued to the front of a record (an older version appended after a torn
   * tail without a newline): the record is read, and these bytes are kept aside before a
   * rewrite drops them.
   */
  torn: Buffer[];
}

const EMPTY = (): LogState => ({ ino: -1, offset: 0, lineNo: 0, partial: false, tail: null, tailOp: null, seen: -1, mtimeMs: -1, header: null, secrets: new Map(), lines: 0, torn: [] });

/** Errors that keep this process from writing the data dir, but not from reading it. */
const READ_ONLY: ReadonlySet<string> = new Set(["EROFS", "EACCES", "EPERM"]);

/** Where a change line can start: a plain op, or a sealed one (JSON.stringify never puts these bytes inside a string). */
const LINE_STARTS = ['{"set":', '{"delete":', '{"iv":'];

/**
 * A Store in `secrets.jsonl`: a header line, then one JSON line per set or delete.
 * A write takes the lock file `secrets.lock` (lock-file.ts: a hard link, the same on every
 * OS), catches up with the log, and appends one line with a single write(2) (O_APPEND) —
 * ≈2 µs where rewriting the file costs ≈0.5 ms here. Readers take no lock: they catch up by
 * reading only the bytes added since they last looked (the file's inode, size and mtime say
 * what changed), so a hot read is one stat. When the log grows well past its live records
 * it is compacted: a complete new file renamed over the old one, under the same lock.
 *
 * A process killed at any point leaves every acknowledged line intact. Only the bytes after
 * the last newline can be a torn write (a line is acknowledged only once its newline is
 * written), so only they are skipped; under the lock, each writer checks where the file
 * really ends — never trusting a cache — and sets a torn tail aside before appending, so
 * every line starts on a fresh line. Any other line that cannot be read is damage: every
 * operation fails with STORE_CORRUPT naming the line, and nothing is written over it.
 */
export class FileStore implements Store {
  readonly backend = "file" as const;
  readonly description: string;
  readonly #dir: string;
  readonly #path: string;
  readonly #lockPath: string;
  readonly #passphrase: string | undefined;
  #state: LogState = EMPTY();
  #key: { salt: string; key: Buffer } | null = null;
  #append: { fd: number; ino: number } | null = null;

  constructor(opts: FileStoreOptions) {
    this.#dir = opts.dir;
    this.#path = join(opts.dir, dataFiles.secrets);
    this.#lockPath = join(opts.dir, dataFiles.secretsLock);
    this.#passphrase = opts.passphrase || undefined;
    this.description = `file: ${this.#path}${this.#passphrase ? " (AES-256-GCM, key from MCB_STORE_KEY)" : " (not encrypted: set MCB_STORE_KEY to encrypt)"}`;
    try {
      mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw dataDirError(opts.dir, e);
    }
    removeOrphanFiles(opts.dir);
    pruneTornFiles(this.#path);
  }

  get path(): string {
    return this.#path;
  }

  async get(name: string): Promise<SecretRecord | null> {
    const st = this.#sync();
    const r = st.tailOp ? lookup(st, name) : st.secrets.get(name);
    return r ? structuredClone(r) : null;
  }

  async set(name: string, record: SecretRecord): Promise<void> {
    const parsed = SecretRecordSchema.parse(record);
    await this.#write({ set: name, record: parsed });
  }

  async delete(name: string): Promise<boolean> {
    return this.#write({ delete: name });
  }

  async list(): Promise<SecretEntry[]> {
    const st = this.#sync();
    return [...live(st)].map(([n, r]) => toEntry(n, r));
  }

  /** Rewrites the log with only the live records, so the values of deleted ones leave no trace in the file. */
  async compact(): Promise<void> {
    const release = await this.#lock();
    try {
      const st = this.#syncForWrite();
      if (st.header !== null) this.#rewrite(st, null);
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    // Every write is on disk when set/delete resolves; nothing is buffered.
    this.#closeAppendFd();
  }

  /** Appends one change under the lock; false when a delete found nothing to delete. */
  async #write(op: Op): Promise<boolean> {
    const release = await this.#lock();
    try {
      const st = this.#syncForWrite();
      if ("delete" in op && !(st.tailOp ? lookup(st, op.delete) : st.secrets.get(op.delete))) return false;
      const wantSealed = this.#passphrase !== undefined;
      // Write the file whole when there is none yet, when MCB_STORE_KEY asks to seal a plain
      // one, and on delete: a deleted secret's value must not stay in the log's history.
      // (A replaced value stays until the next compaction, at most COMPACT_SLACK changes.)
      if (st.header === null || Boolean(st.header.sealed) !== wantSealed || "delete" in op) {
        this.#rewrite(st, op);
        return true;
      }
      const fd = this.#appendFd(st.ino);
      // The file must end on a newline before our line goes on. A whole record that lacks only
      // its newline gets it, in the same write as ours; torn bytes are set aside and cut off
      // (they were never acknowledged: a line is, only once its newline is on disk).
      if (st.partial && !st.tailOp) this.#cutTornTail(st, fd);
      const completeTail = st.partial ? "\n" : "";
      const bytes = Buffer.from(`${completeTail}${this.#encodeOp(op, st.header)}\n`, "utf8");
      const before = st.seen;
      writeWhole(fd, bytes, (e) => {
        // Nothing of a failed line may stay behind: cut the file back to where it ended, so
        // no reader or later writer sees a torn line (POSIX write(2): on a full disk a
        // write may store fewer bytes than asked, then fail with ENOSPC).
        try {
          ftruncateSync(fd, before);
        } catch {
          // Cannot even do that (EIO): read the file afresh next time; the next writer cuts the torn tail.
          this.#state = EMPTY();
        }
        return this.#ioError("write", e);
      });
      // We hold the lock and #syncForWrite just checked the file's end, so nobody else appended:
      // the file ends with our line.
      if (st.tailOp) {
        apply(st.secrets, st.tailOp);
        st.lines++;
        st.lineNo++;
      }
      apply(st.secrets, op);
      st.offset = st.seen = before + bytes.length;
      st.mtimeMs = mtimeOf(fd);
      st.partial = false;
      st.tail = null;
      st.tailOp = null;
      st.lines++;
      st.lineNo++;
      if (st.lines > st.secrets.size * 2 + COMPACT_SLACK) this.#rewrite(st, null);
      return true;
    } finally {
      release();
    }
  }

  /**
   * The lock file, waiting for it when another process holds it. Taking it is the first
   * thing a write does, so a data dir that cannot be written (read-only, not ours, full)
   * refuses every write here, with what to do, while reads — which take no lock — go on.
   */
  async #lock(): Promise<() => void> {
    try {
      return tryAcquireLock(this.#lockPath) ?? (await acquireLock(this.#lockPath));
    } catch (e) {
      const code = ((e as BrokerError).cause as NodeJS.ErrnoException | undefined)?.code;
      if (code && READ_ONLY.has(code)) throw this.#readOnlyError(code, e);
      throw e;
    }
  }

  #readOnlyError(code: string, cause: unknown): BrokerError {
    const why = code === "EROFS" ? "is on a read-only file system" : `is not writable by you (${code})`;
    const fix = code === "EROFS" ? "remount it read-write" : "make it writable by you (chmod/chown)";
    return new BrokerError("STORE_READ_ONLY", `The data directory ${this.#dir} ${why}: secrets can be listed and read, but not stored, changed or deleted. To change them, ${fix}, or set MCB_HOME to a writable directory.`, { cause });
  }

  /**
   * Under the lock, before a write: the state of the file as it really is. A writer killed
   * mid-write leaves bytes no cache knows of, and the file may have been replaced or cut by
   * hand: so the path is stat'ed (inode, size, mtime), and its last byte is read to confirm
   * that the cached state ends where the file does, on a newline. ≈1 µs for the stat and the read.
   */
  #syncForWrite(): LogState {
    let st = this.#sync();
    if (st.header === null || st.partial || st.seen === 0) return st;
    if (lastByte(this.#appendFd(st.ino), st.seen) !== 0x0a) {
      // Same inode and size, yet not what we read: read it all again.
      this.#state = EMPTY();
      st = this.#sync();
    }
    return st;
  }

  /**
   * Catches up with the file: nothing if unchanged, the new tail if it grew, all if replaced.
   * "Unchanged" is one stat(2): the same inode, size and mtime as when this process last read
   * or wrote it. Every change by a broker either grows the file (an append) or replaces it (a
   * compaction: a new inode, and should the number be reused, a new mtime); the stat also
   * catches changes made by anything else (a restored backup, an edit by hand).
   */
  #sync(): LogState {
    let ino: number;
    let size: number;
    let mtimeMs: number;
    try {
      // lstat: a link where the log belongs is refused, never followed (data-files.ts).
      const s = lstatSync(this.#path);
      if (s.isSymbolicLink()) throw Object.assign(new Error("a link"), { code: "ELOOP", syscall: "open", path: this.#path });
      if (!s.isFile()) throw Object.assign(new Error("not a file"), { code: "EISDIR", syscall: "open", path: this.#path });
      ino = s.ino;
      size = Number(s.size);
      mtimeMs = s.mtimeMs;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return (this.#state = EMPTY());
      throw this.#ioError("read", e);
    }
    const st = this.#state;
    // With a tail, the size alone does not tell: a writer may since have cut it and appended a
    // line of the same length (and timestamps are too coarse to tell either). A tail is a
    // partial line, rare and short-lived (the next write removes it): read it again.
    if (st.ino === ino && size === st.seen && mtimeMs === st.mtimeMs && !st.partial && st.header !== null) return st;
    // Same inode and size but another mtime, with nothing partial: not an append (appends
    // grow the file), so the file was rewritten in place or replaced by one that reuses the
    // inode number: read it whole.
    const rewritten = st.ino === ino && size === st.seen && mtimeMs !== st.mtimeMs && !st.partial;
    return (this.#state = this.#catchUp(rewritten ? EMPTY() : st));
  }

  /** Opens the log and applies every complete line past what `prev` has read. */
  #catchUp(prev: LogState): LogState {
    let fd: number;
    try {
      fd = openDataFile(this.#path, "r");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return EMPTY();
      throw this.#ioError("read", e);
    }
    try {
      // Identity from the open fd: the file may have been replaced since the stat.
      const s = fstatSync(fd);
      const size = Number(s.size);
      const st = prev.ino === s.ino && size >= prev.offset ? prev : { ...EMPTY(), ino: s.ino };
      st.mtimeMs = s.mtimeMs;
      const len = size - st.offset;
      const buf = Buffer.allocUnsafe(len);
      let got = 0;
      while (got < len) {
        let n: number;
        try {
          n = readSync(fd, buf, got, len - got, st.offset + got);
        } catch (e) {
          throw this.#ioError("read", e);
        }
        if (n === 0) break; // cut meanwhile (a writer removing a torn tail)
        got += n;
      }
      const end = got === 0 ? -1 : buf.lastIndexOf(0x0a, got - 1);
      if (end >= 0) {
        const lines = buf.subarray(0, end).toString("utf8").split("\n");
        for (const [i, raw] of lines.entries()) this.#applyLine(st, raw, st.lineNo + i + 1);
        st.offset += end + 1;
        st.lineNo += lines.length;
      }
      st.partial = end + 1 < got;
      st.tail = st.partial ? Buffer.from(buf.subarray(end + 1, got)) : null;
      st.tailOp = st.tail && st.header !== null ? this.#completeTail(st, st.tail) : null;
      st.seen = st.offset + (got - (end + 1));
      // Files are created whole by rename, so a header is always there and complete.
      if (st.header === null) throw this.#corrupt(1, size === 0 ? "the file is empty" : "it does not start with the secrets-file header");
      return st;
    } catch (e) {
      // Half-applied state must not be kept: start from scratch next time.
      this.#state = EMPTY();
      throw e;
    } finally {
      closeSync(fd);
    }
  }

  /** Applies one newline-terminated line; anything unreadable is STORE_CORRUPT naming line `n`. */
  #applyLine(st: LogState, raw: string, n: number): void {
    if (raw === "") return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      if (st.header === null) throw this.#corrupt(n, "it does not start with the secrets-file header");
      // Not torn: a torn write is always the last line (its newline never made it). Unless
      // an older version glued a record to a torn write, this line is damaged.
      const glued = this.#unglue(st.header, raw);
      if (!glued) throw this.#corrupt(n, "the line is not JSON");
      st.torn.push(Buffer.from(glued.torn, "utf8"));
      apply(st.secrets, glued.op);
      st.lines++;
      return;
    }
    if (st.header === null) {
      const h = HeaderSchema.safeParse(json);
      if (!h.success) throw this.#corrupt(n, "it does not start with the secrets-file header");
      st.header = h.data;
      this.#checkKey(h.data);
      return;
    }
    const op = this.#parseOp(st.header, json, n);
    apply(st.secrets, op);
    st.lines++;
  }

  /** A change line's op: decrypted (GCM authenticates it) and checked against the schema. */
  #parseOp(h: Header, json: unknown, n: number): Op {
    let plain: unknown = json;
    if (h.sealed) {
      const sealed = Sealed.safeParse(json);
      if (!sealed.success) throw this.#corrupt(n, "the line is not an encrypted record");
      // The header's key check passed, so the key is right: a record that does not
      // authenticate was altered or damaged.
      const text = this.#tryDecrypt(sealed.data, h);
      if (text === null) throw this.#corrupt(n, "the encrypted record fails authentication (altered or damaged)");
      try {
        plain = JSON.parse(text);
      } catch {
        throw this.#corrupt(n, "the encrypted record does not hold JSON");
      }
    }
    const op = OpSchema.safeParse(plain);
    if (!op.success) throw this.#corrupt(n, "the line is not a valid record");
    return op.data;
  }

  /**
   * A line an older version wrote as torn bytes then, without a newline, a whole record (it
   * trusted a stale cache): the record, if one starts after the torn bytes and reads whole.
   */
  #unglue(h: Header, raw: string): { op: Op; torn: string } | null {
    for (const start of LINE_STARTS) {
      for (let i = raw.indexOf(start, 1); i > 0; i = raw.indexOf(start, i + 1)) {
        let json: unknown;
        try {
          json = JSON.parse(raw.slice(i));
        } catch {
          continue;
        }
        try {
          return { op: this.#parseOp(h, json, 0), torn: raw.slice(0, i) };
        } catch {
          /* not a record after all */
        }
      }
    }
    return null;
  }

  /** The op of an unterminated last line that is a whole record; null when it is torn. */
  #completeTail(st: LogState, tail: Buffer): Op | null {
    let json: unknown;
    try {
      json = JSON.parse(tail.toString("utf8"));
    } catch {
      return null; // torn: a write cut short
    }
    // Whole JSON: a record missing only its newline, which must read like any other line.
    return this.#parseOp(st.header!, json, st.lineNo + 1);
  }

  /** Verifies that the configured passphrase opens a sealed file (and that one is needed). */
  #checkKey(h: Header): void {
    if (!h.sealed) return;
    if (!this.#passphrase) {
      throw new BrokerError("STORE_KEY_INVALID", `${this.#path} is encrypted. Set MCB_STORE_KEY to the passphrase it was written with.`);
    }
    if (this.#tryDecrypt(h.sealed.check, h) !== KEY_CHECK) throw this.#wrongKey();
  }

  #tryDecrypt(s: z.infer<typeof Sealed>, h: Header): string | null {
    try {
      const d = createDecipheriv("aes-256-gcm", this.#deriveKey(Buffer.from(h.sealed!.salt, "base64")), Buffer.from(s.iv, "base64"));
      d.setAuthTag(Buffer.from(s.tag, "base64"));
      return Buffer.concat([d.update(Buffer.from(s.data, "base64")), d.final()]).toString("utf8");
    } catch {
      return null;
    }
  }

  #seal(plain: string, salt: Buffer): z.infer<typeof Sealed> {
    const iv = randomBytes(12); // NIST SP 800-38D: 96-bit random IV, fresh per encryption
    const c = createCipheriv("aes-256-gcm", this.#deriveKey(salt), iv);
    const data = Buffer.concat([c.update(plain, "utf8"), c.final()]);
    return { iv: iv.toString("base64"), data: data.toString("base64"), tag: c.getAuthTag().toString("base64") };
  }

  #encodeOp(op: Op, h: Header): string {
    const plain = JSON.stringify(op);
    return h.sealed ? JSON.stringify(this.#seal(plain, Buffer.from(h.sealed.salt, "base64"))) : plain;
  }

  #deriveKey(salt: Buffer): Buffer {
    const id = salt.toString("base64");
    if (this.#key?.salt !== id) this.#key = { salt: id, key: scryptSync(this.#passphrase ?? "", salt, 32, SCRYPT) };
    return this.#key.key;
  }

  /**
   * Under the lock: cuts a torn tail off the log, after keeping a copy of its bytes aside.
   * It was never acknowledged, but no write discards bytes it could not read.
   */
  #cutTornTail(st: LogState, fd: number): void {
    this.#keepAside([st.tail!]);
    try {
      ftruncateSync(fd, st.offset);
    } catch (e) {
      throw this.#ioError("write", e);
    }
    st.seen = st.offset;
    st.partial = false;
    st.tail = null;
  }

  /**
   * Writes unreadable bytes a rewrite is about to drop to `secrets.jsonl.torn-<time>` (0600),
   * so nothing leaves the disk unseen. Only ever torn writes: damaged lines stop every write.
   */
  #keepAside(chunks: Buffer[]): void {
    try {
      keepTornBytes(this.#path, chunks);
    } catch (e) {
      throw this.#ioError("keep a copy of torn bytes beside", e);
    }
  }

  /**
   * Under the lock: writes `st`'s live records (with `op` applied) as a new file and renames
   * it over the log. Bytes the new file would drop unread — a torn tail, torn writes glued
   * to records — are kept aside first.
   */
  #rewrite(st: LogState, op: Op | null): void {
    const secrets = new Map(st.secrets);
    if (st.tailOp) apply(secrets, st.tailOp);
    if (op) apply(secrets, op);
    this.#keepAside([...st.torn, ...(st.partial && !st.tailOp ? [st.tail!] : [])]);
    this.#compact(secrets);
  }

  /**
   * Writes the live records as a new file (0600 from creation, never a wider window) and
   * renames it over the log. Called under the lock. No fsync: the rename is atomic, so a
   * killed process (the crash this guards against) never leaves a torn file, and an
   * acknowledged write is in the page cache, which outlives the process; an fsync would
   * only guard against power loss, at ≈0.7 ms per write here.
   */
  #compact(secrets: Map<string, SecretRecord>): void {
    const prev = this.#state.header?.sealed;
    let header: Header = { format: FORMAT, version: 1 };
    if (this.#passphrase !== undefined) {
      const salt = prev ? Buffer.from(prev.salt, "base64") : randomBytes(16);
      header = { ...header, sealed: { alg: "A256GCM", kdf: "scrypt", salt: salt.toString("base64"), check: this.#seal(KEY_CHECK, salt) } };
    }
    const lines = [JSON.stringify(header), ...[...secrets].map(([name, record]) => this.#encodeOp({ set: name, record }, header))];
    const content = `${lines.join("\n")}\n`;
    const tmp = `${this.#path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    let ino: number;
    let mtimeMs: number;
    try {
      const fd = openSync(tmp, "wx", 0o600);
      try {
        writeFileSync(fd, content); // loops until every byte is written
        ({ ino, mtimeMs } = fstatSync(fd)); // rename(2) keeps both
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.#path);
    } catch (e) {
      try { unlinkSync(tmp); } catch { /* never created */ }
      throw this.#ioError("write", e);
    }
    this.#closeAppendFd();
    const size = Buffer.byteLength(content);
    this.#state = { ...EMPTY(), ino, offset: size, seen: size, mtimeMs, lineNo: lines.length, header, secrets, lines: secrets.size };
  }

  /** An O_APPEND fd on the log whose inode is `ino`, kept open between writes (readable: #syncForWrite reads its last byte). */
  #appendFd(ino: number): number {
    if (this.#append?.ino === ino) return this.#append.fd;
    this.#closeAppendFd();
    let fd: number;
    try {
      fd = openDataFile(this.#path, "a+");
    } catch (e) {
      throw this.#ioError("write", e);
    }
    if (fstatSync(fd).ino !== ino) {
      // Replaced between our stat and this open: refuse rather than append blind.
      closeSync(fd);
      throw new BrokerError("STORE_LOCKED", `${this.#path} was replaced while locked. Check that no other program rewrites it, and retry.`);
    }
    this.#append = { fd, ino };
    return fd;
  }

  #closeAppendFd(): void {
    if (this.#append) {
      try { closeSync(this.#append.fd); } catch { /* already closed */ }
      this.#append = null;
    }
  }

  #corrupt(line: number, what: string): BrokerError {
    return new BrokerError(
      "STORE_CORRUPT",
      `${this.#path} is damaged at line ${line}: ${what}. Nothing was changed, and nothing is written to it until it is repaired: ` +
        `restore it from a backup, or move it aside (the broker then starts an empty store) and store the secrets again` +
        `${line > 1 ? `; or delete line ${line} by hand (the change it held is lost) after keeping a copy` : ""}.`,
    );
  }

  #wrongKey(): BrokerError {
    return new BrokerError("STORE_KEY_INVALID", `MCB_STORE_KEY does not decrypt ${this.#path} (wrong passphrase, or the file was altered). Set the passphrase it was written with.`);
  }

  #ioError(op: string, e: unknown): BrokerError {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EROFS") return this.#readOnlyError(code, e);
    return new BrokerError("IO_ERROR", `Cannot ${op} ${this.#path}: ${code ?? "error"} (${fsFix(code)}).`, { cause: e });
  }
}

function apply(secrets: Map<string, SecretRecord>, op: Op): void {
  if ("delete" in op) secrets.delete(op.delete);
  else secrets.set(op.set, op.record);
}

/** A record as stored, counting a whole record in the unterminated last line. */
function lookup(st: LogState, name: string): SecretRecord | undefined {
  const t = st.tailOp;
  if (t && ("delete" in t ? t.delete : t.set) === name) return "delete" in t ? undefined : t.record;
  return st.secrets.get(name);
}

/** Every live record, counting a whole record in the unterminated last line. */
function live(st: LogState): Map<string, SecretRecord> {
  if (!st.tailOp) return st.secrets;
  const m = new Map(st.secrets);
  apply(m, st.tailOp);
  return m;
}

/** The mtime of an open file, after our write: what #sync compares with. */
function mtimeOf(fd: number): number {
  try {
    return fstatSync(fd).mtimeMs;
  } catch {
    return -1; // unknown: the next read reads the file again
  }
}

/** The data dir itself cannot be made: say what is in the way and how to fix it. */
function dataDirError(dir: string, e: unknown): BrokerError {
  const code = (e as NodeJS.ErrnoException).code;
  const blocker = code === "EEXIST" || code === "ENOTDIR" ? fileInTheWay(dir) : null;
  if (blocker) {
    return new BrokerError("IO_ERROR", `The data directory ${dir} cannot be created: ${blocker} is a file, not a directory. Move that file aside, or set MCB_HOME to a directory.`, { cause: e });
  }
  if (code === "EROFS") {
    return new BrokerError("STORE_READ_ONLY", `The data directory ${dir} does not exist and cannot be created: the file system is read-only. Set MCB_HOME to a writable directory.`, { cause: e });
  }
  return new BrokerError("IO_ERROR", `Cannot create the data directory ${dir}: ${code ?? "error"} (${fsFix(code)}).`, { cause: e });
}

/**
 * A process killed mid-compaction leaves a temp copy of the secrets, and one killed at any
 * time leaves its lock holder files; remove those whose process is gone.
 */
function removeOrphanFiles(dir: string): void {
  removeDeadWritersFiles(dir, /^(?:secrets\.jsonl|[\w-]+\.lock(?:\.break)?)\.(\d+)\.[0-9a-f]{8}(?:\.tmp)?$/);
}
