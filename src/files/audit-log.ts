// audit.jsonl: the file-backed AuditLog (src/core/audit.ts is the port and the chain rules):
// hash-chained lines appended under a lock, rotated at a size limit, with a write-ahead file
// per process for the lines someone waits for.
import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, ftruncateSync, lstatSync, mkdirSync, readdirSync, readSync, renameSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { auditKey, AUDIT_FIELDS, formatAuditLine, GENESIS_PREV, lineHash, type AuditEntry, type AuditKey, type AuditLog } from "../core/audit.ts";
import { BrokerError, fsFix } from "../errors.ts";
import { PendingFile, readPendingLines } from "./audit-pending.ts";
import { openDataFile } from "./data-files.ts";
import { acquireLock, isProcessAlive, tryAcquireLock } from "./lock-file.ts";
import { keepTornBytes, pruneTornFiles, writeWhole } from "./torn-files.ts";

/** How long a line nobody waits for may sit in the queue before its batch is written. */
export const BATCH_DELAY_MS = 5;

/** A write-ahead file is `<log path>.pending.<pid>.<nonce>`. */
export const PENDING_INFIX = ".pending.";

/** Default size at which audit.jsonl is rotated (MCB_AUDIT_MAX_BYTES overrides it). */
export const DEFAULT_AUDIT_MAX_BYTES = 10 * 1024 * 1024;

/**
 * The files of one log, oldest first: rotated `audit.1.jsonl`, `audit.2.jsonl`, … then the
 * live `audit.jsonl` itself (listed even when it does not exist yet).
 */
export function auditFiles(path: string): string[] {
  return [...rotatedFiles(path).map((r) => r.path), path];
}

function rotatedFiles(path: string): { n: number; path: string }[] {
  const dir = dirname(path);
  const { stem, ext } = splitName(path);
  const re = new RegExp(`^${escapeRegExp(stem)}\\.(\\d+)${escapeRegExp(ext)}$`);
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    /* no data dir yet */
  }
  const rotated = names.flatMap((n) => {
    const m = re.exec(n);
    return m ? [{ n: Number(m[1]), path: join(dir, n) }] : [];
  });
  return rotated.sort((a, b) => a.n - b.n);
}

function splitName(path: string): { stem: string; ext: string } {
  const base = basename(path);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? { stem: base.slice(0, dot), ext: base.slice(dot) } : { stem: base, ext: "" };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}


/** One line of a write-ahead file: the entry and its time, not yet chained. */
function formatPendingLine(entry: AuditEntry, time: number): string {
  return JSON.stringify({ time: new Date(time).toISOString(), ...entry });
}

/** The write-ahead files beside `path` whose process is gone: `<path>.pending.<pid>.<nonce>`. */
export function orphanedPendingFiles(path: string, own?: string): string[] {
  const prefix = `${basename(path)}${PENDING_INFIX}`;
  let names: string[] = [];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    if (!n.startsWith(prefix)) return [];
    const file = join(dirname(path), n);
    const pid = Number.parseInt(n.slice(prefix.length), 10);
    if (file === own || (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid))) return [];
    return [file];
  });
}

/**
 * Takes the lines out of stopped processes' write-ahead files (runs under the audit lock):
 * each becomes a queued line marked `recovered`, and the file is removed once they are
 * chained. A torn last line (killed mid-write) is dropped: that process never answered.
 */
function recoverPending(path: string, own: string): { lines: QueuedLine[]; files: string[] } {
  const out: QueuedLine[] = [];
  const files: string[] = [];
  for (const file of orphanedPendingFiles(path, own)) {
    let lines: string[];
    try {
      lines = readPendingLines(file);
    } catch {
      continue; // another process recovered it first
    }
    for (const raw of lines) {
      let parsed: ({ time?: unknown } & Partial<AuditEntry>) | null = null;
      try {
        parsed = JSON.parse(raw) as { time?: unknown } & Partial<AuditEntry>;
      } catch {
        continue;
      }
      const { time, ...rest } = parsed ?? {};
      const ms = typeof time === "string" ? Date.parse(time) : Number.NaN;
      if (!Number.isFinite(ms) || typeof rest.event !== "string" || typeof rest.outcome !== "string") continue;
      // Only the fields an audit line has: whatever else a file in the data dir holds stays out of the chain.
      const entry = Object.fromEntries(Object.entries(rest).filter(([k]) => AUDIT_FIELDS.has(k))) as unknown as AuditEntry;
      const done = Promise.withResolvers<void>();
      done.promise.catch(() => {}); // nobody waits for a recovered line; a failed write fails the log
      out.push({ entry: { ...entry, recovered: true }, time: ms, done, inWal: false });
    }
    files.push(file);
  }
  return { lines: out, files };
}

/** Where the chain stands: the hash and seq of the last complete line. */
interface Head {
  hash: string;
  seq: number;
}

/**
 * The end of an open log: the last complete line's hash and seq (null for none), and `end`,
 * the offset just after the last newline. Bytes past `end` are a torn line (a writer killed,
 * or a disk full, mid-write): they were never acknowledged.
 */
function readTail(fd: number, size: number): { head: Head | null; end: number } {
  const end = lastNewline(fd, size) + 1;
  if (end === 0) return { head: null, end: 0 };
  const lineStart = lastNewline(fd, end - 1) + 1;
  const line = readAt(fd, lineStart, end - 1 - lineStart);
  return { head: { hash: lineHash(line), seq: seqOf(line) }, end };
}

/** The offset of the last newline before `before`, scanning backwards in blocks; -1 for none. */
function lastNewline(fd: number, before: number): number {
  for (let pos = before; pos > 0; ) {
    const from = Math.max(0, pos - 4096);
    const nl = readAt(fd, from, pos - from).lastIndexOf(0x0a);
    if (nl >= 0) return from + nl;
    pos = from;
  }
  return -1;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** The `seq` of a line, or 0 when it has none (a damaged line: verify reports it). */
function seqOf(line: Buffer): number {
  try {
    const seq = (JSON.parse(line.toString("utf8")) as { seq?: unknown }).seq;
    return typeof seq === "number" && Number.isInteger(seq) ? seq : 0;
  } catch {
    return 0;
  }
}

/** Errors that mean the data dir cannot be written at all (as opposed to a full disk or an I/O error). */
const READ_ONLY: ReadonlySet<string> = new Set(["EROFS", "EACCES", "EPERM"]);

/**
 * Appends hash-chained lines to `path`, with the same code on every OS. Several broker
 * processes append to one log, so each batch takes the lock file `<path>.lock`
 * (lock-file.ts), finds the chain's head (cached while the file's inode and size are
 * unchanged), rotates when a line would push the file past `maxBytes`, and writes the batch
 * with one O_APPEND write(2), within BATCH_DELAY_MS of its first line, so the lines of a
 * store → get → resolve sequence share one lock. A line someone waits for (`urgent`: a value
 * about to be handed out, a change about to be made) is first appended, with every line
 * queued before it, to this process's write-ahead file (audit-pending.ts: one write(2), no
 * lock), and `record` resolves then; the batch chains it and empties that file. A process
 * killed in between leaves the file behind, and the next broker to write the log chains its
 * lines first (marked `recovered`). Taking the lock and chaining before each answer cost ≈10 %
 * of a store → get → resolve round trip (bench/RESULTS.md).
 *
 * A write that fails part-way (a full disk: POSIX write(2) may store part of the bytes, then
 * fail with ENOSPC) is cut back to where the file ended, so no torn line stays behind; a torn
 * line left by a writer killed mid-write is cut by the next writer, its bytes kept aside in
 * `audit.jsonl.torn-<time>`. Lines are written, not fsync'ed: they survive the broker being
 * killed (the page cache holds them), not a power cut.
 */
export class FileAuditLog implements AuditLog {
  readonly #path: string;
  readonly #lockPath: string;
  readonly #now: () => number;
  readonly #maxBytes: number;
  /** The head after our last append, valid while the file has the same inode and size. */
  #cache: { ino: number; size: number; head: Head | null } | null = null;
  #fd: number | null = null;
  #fdIno = -1;
  #dirReady = false;
  #queue: QueuedLine[] = [];
  #flushing: Promise<void> | null = null;
  /** Starts a delayed batch now (set while one waits for its timer). */
  #wake: (() => void) | null = null;
  #failure: BrokerError | null = null;
  /** This process's write-ahead file (see #writeAhead), opened at the first urgent line. */
  #wal: PendingFile | null = null;
  readonly #walPath: string;
  #recovered = false;

  /** Loads (or creates) the chain key from the store; absent: lines carry no mac (the memory store, tests). */
  readonly #loadKey: (() => Promise<Buffer>) | undefined;
  #key: AuditKey | null = null;

  constructor(opts: { path: string; now: () => number; maxBytes?: number; chainKey?: () => Promise<Buffer> }) {
    this.#loadKey = opts.chainKey;
    this.#path = opts.path;
    this.#lockPath = `${opts.path}.lock`;
    this.#now = opts.now;
    this.#maxBytes = opts.maxBytes ?? DEFAULT_AUDIT_MAX_BYTES;
    this.#walPath = `${opts.path}${PENDING_INFIX}${process.pid}.${randomBytes(4).toString("hex")}`;
  }

  assertWritable(): void {
    if (this.#failure) throw this.#failure;
  }

  /** The error that stopped this log, if one did (a CLI command reports it after an operation that succeeded). */
  get failure(): BrokerError | null {
    return this.#failure;
  }

  async record(entry: AuditEntry, opts: { urgent?: boolean } = {}): Promise<void> {
    if (this.#failure) throw this.#failure;
    const done = Promise.withResolvers<void>();
    // The time is taken now, when the event happens, not when the batch is written.
    this.#queue.push({ entry, time: this.#now(), done, inWal: false });
    if (opts.urgent === true) this.#writeAhead();
    this.#scheduleFlush(false);
    return done.promise;
  }

  /**
   * An urgent line must be on disk before the answer, but chaining it needs the cross-process
   * lock: so it goes first, with every line queued before it, into this process's own
   * write-ahead file — one write(2), no lock — and its `record` resolves; the chained append
   * follows with the batch. A failed write fails the log (fail closed).
   */
  #writeAhead(): void {
    let text = "";
    const items: QueuedLine[] = [];
    for (const item of this.#queue) {
      if (item.inWal) continue;
      text += `${formatPendingLine(item.entry, item.time)}\n`;
      items.push(item);
    }
    try {
      if (this.#wal === null) {
        this.#ensureDir();
        this.#wal = new PendingFile(this.#walPath);
      }
      this.#wal.append(Buffer.from(text));
    } catch (e) {
      this.#fail(e, []);
      return;
    }
    for (const item of items) {
      item.inWal = true;
      item.done.resolve();
    }
  }

  /** Appends `batch` while holding the lock, releases it, and settles each line's promise. */
  #writeLocked(batch: QueuedLine[], release: () => void): boolean {
    try {
      try {
        this.#append(batch);
      } finally {
        release();
      }
    } catch (e) {
      this.#fail(e, batch);
      return false;
    }
    for (const item of batch) item.done.resolve();
    // Every line of the write-ahead file is in the chain now.
    if (this.#wal !== null && batch.some((i) => i.inWal)) {
      try { this.#wal.clear(); } catch { /* recovered later as duplicates at worst */ }
    }
    return true;
  }

  #ensureDir(): void {
    if (!this.#dirReady) {
      mkdirSync(dirname(this.#path), { recursive: true, mode: 0o700 });
      this.#dirReady = true;
    }
  }

  /**
   * Fail closed: this batch and everything after it is refused, and so is every later
   * operation — a value is handed out, and a change made, only once its line is written.
   */
  #fail(e: unknown, batch: QueuedLine[]): void {
    const cause = e instanceof BrokerError && e.cause ? e.cause : e;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code && READ_ONLY.has(code)) {
      // A data dir that cannot be written serves listings (secret list, status, doctor), which
      // record nothing; whatever must be recorded first is refused, saying why.
      const dir = dirname(this.#path);
      const why = code === "EROFS" ? "is on a read-only file system" : `is not writable by you (${code})`;
      const fix = code === "EROFS" ? "remount it read-write" : "make it writable by you (chmod/chown)";
      this.#failure = new BrokerError(
        "STORE_READ_ONLY",
        `The data directory ${dir} ${why}, so the audit log ${this.#path} cannot be written. A value is handed out, and a secret stored, changed or deleted, only once its audit line is written (fail closed): secrets can be listed, not used. To fix, ${fix}, or set MCB_HOME to a writable directory.`,
        { cause: e },
      );
    } else {
      const what = code ? `${code} (${fsFix(code)})` : e instanceof BrokerError ? e.message : "error";
      this.#failure = new BrokerError(
        e instanceof BrokerError && !code ? e.code : "IO_ERROR",
        `Cannot write the audit log ${this.#path}: ${what}. A value is handed out, and a change made, only once its audit line is written (fail closed): fix this, then retry (a running MCP server refuses until it is restarted).`,
        { cause: e },
      );
    }
    for (const item of [...batch, ...this.#queue.splice(0)]) item.done.reject(this.#failure);
  }

  /**
   * Writes queued lines in batches: one lock and one write(2) for every line queued since
   * the last batch. A line someone waits for (`urgent`) is written on the next turn of the
   * event loop, with every line queued before it; others wait up to BATCH_DELAY_MS, so
   * the lines of a store → get → resolve sequence share one lock instead of each taking
   * it between two requests.
   */
  #scheduleFlush(urgent: boolean): void {
    if (this.#flushing) {
      if (urgent) this.#wake?.();
      return;
    }
    this.#flushing = new Promise<void>((r) => {
      if (urgent) return void setImmediate(r);
      const timer = setTimeout(r, BATCH_DELAY_MS);
      this.#wake = () => {
        clearTimeout(timer);
        setImmediate(r);
      };
    })
      .then(() => {
        this.#wake = null;
        return this.#drain();
      })
      .finally(() => {
        this.#flushing = null;
        if (this.#queue.length > 0 && !this.#failure) this.#scheduleFlush(true);
      });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      let release: () => void;
      try {
        // The key first: it comes from the store (a keychain helper, at most once per process), not under the lock.
        if (this.#loadKey && this.#key === null) this.#key = auditKey(await this.#loadKey());
        this.#ensureDir();
        release = tryAcquireLock(this.#lockPath) ?? (await acquireLock(this.#lockPath));
      } catch (e) {
        this.#fail(e, []);
        return;
      }
      if (!this.#writeLocked(this.#queue.splice(0), release)) return;
    }
  }

  /** Waits until every line recorded so far is written (or has failed). */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing.catch(() => {});
  }

  /**
   * Runs under the lock. The append fd stays open between lines (a line costs a stat and
   * a write, not an open and a close too); a stat of the path says whether another
   * process rotated the file meanwhile, and then the fd is reopened.
   */
  #append(batch: QueuedLine[]): void {
    let recoveredFiles: string[] = [];
    if (!this.#recovered) {
      // Once per process, before our first line: lines a stopped broker had only in its write-ahead file.
      this.#recovered = true;
      pruneTornFiles(this.#path);
      const found = recoverPending(this.#path, this.#walPath);
      batch = [...found.lines, ...batch];
      recoveredFiles = found.files;
    }
    let st = this.#statPath();
    if (this.#fd === null || st === null || this.#fdIno !== st.ino) {
      this.#closeFd();
      this.#fd = openDataFile(this.#path, "a+");
      st = fstatSync(this.#fd);
      this.#fdIno = st.ino;
    }
    const fd = this.#fd;
    let size = st.size;
    let head: Head | null;
    if (this.#cache && this.#cache.ino === st.ino && this.#cache.size === size) head = this.#cache.head;
    else {
      const tail = readTail(fd, size);
      if (tail.end < size) {
        // A torn last line: the next line must start on a fresh one. Keep its bytes aside, then cut it.
        keepTornBytes(this.#path, [readAt(fd, tail.end, size - tail.end)]);
        ftruncateSync(fd, tail.end);
        size = tail.end;
      }
      head = tail.head;
    }
    this.#cache = null; // set again below, once the batch is written
    // An empty live file continues the chain of the newest rotated file.
    let prev = head ?? (size === 0 ? this.#rotatedHead() : null) ?? { hash: GENESIS_PREV, seq: 0 };
    let ino = st.ino;
    let pending = "";
    let pendingBytes = 0; // kept alongside: measuring the whole batch per line was quadratic
    for (const { entry, time } of batch) {
      const text = formatAuditLine(entry, time, prev.seq + 1, prev.hash, this.#key ?? undefined);
      const line = `${text}\n`;
      const lineBytes = Buffer.byteLength(line);
      if (size + pendingBytes > 0 && size + pendingBytes + lineBytes > this.#maxBytes) {
        // Rotate: finish the current file, then continue the chain in a fresh one.
        if (pending) this.#writeAt(fd, Buffer.from(pending), size);
        this.#closeFd();
        renameSync(this.#path, this.#nextRotatedPath());
        this.#fd = openDataFile(this.#path, "a+");
        const fresh = fstatSync(this.#fd);
        this.#fdIno = ino = fresh.ino;
        size = fresh.size;
        pending = "";
        pendingBytes = 0;
      }
      pending += line;
      pendingBytes += lineBytes;
      prev = { hash: lineHash(text), seq: prev.seq + 1 };
    }
    this.#writeAt(this.#fd!, Buffer.from(pending), size);
    this.#cache = { ino, size: size + pendingBytes, head: prev };
    // Only now that their lines are in the chain.
    for (const f of recoveredFiles) try { unlinkSync(f); } catch { /* removed meanwhile */ }
  }

  /** One write(2) of whole lines at the end of the log, which ends at `size`; on failure cut back to `size`. */
  #writeAt(fd: number, bytes: Buffer, size: number): void {
    writeWhole(fd, bytes, (e) => {
      try {
        ftruncateSync(fd, size);
      } catch {
        /* the next writer cuts the torn line */
      }
      return e as Error;
    });
  }

  #statPath(): { ino: number; size: number } | null {
    try {
      return lstatSync(this.#path); // a link in its place: another inode, so the open below refuses it
    } catch {
      return null;
    }
  }

  #closeFd(): void {
    if (this.#fd !== null) {
      try { closeSync(this.#fd); } catch { /* already closed */ }
    }
    this.#fd = null;
    this.#fdIno = -1;
  }

  #rotatedHead(): Head | null {
    const newest = rotatedFiles(this.#path).at(-1);
    if (!newest) return null;
    const fd = openDataFile(newest.path, "r");
    try {
      return readTail(fd, fstatSync(fd).size).head;
    } finally {
      closeSync(fd);
    }
  }

  #nextRotatedPath(): string {
    const { stem, ext } = splitName(this.#path);
    const n = (rotatedFiles(this.#path).at(-1)?.n ?? 0) + 1;
    return join(dirname(this.#path), `${stem}.${n}${ext}`);
  }

  async close(): Promise<void> {
    await this.flush();
    this.#cache = null;
    this.#closeFd();
    if (this.#wal !== null) {
      this.#wal.close();
      this.#wal = null;
      // Empty once every line is in the chain; after a failed write it keeps them for recovery.
      if (!this.#failure) try { unlinkSync(this.#walPath); } catch { /* gone */ }
    }
  }
}

interface QueuedLine {
  entry: AuditEntry;
  time: number;
  done: PromiseWithResolvers<void>;
  /** Already in this process's write-ahead file. */
  inWal: boolean;
}

