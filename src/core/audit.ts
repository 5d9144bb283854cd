// The audit log: one JSON line per credential operation, hash-chained, appended to audit.jsonl
// under a lock and rotated at a size limit. Never a value: at most its HMAC fingerprint.
import { createHash, randomBytes } from "node:crypto";
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { BrokerError } from "../errors.ts";
import { openPendingFile, readPendingLines, type PendingFile } from "./audit-pending.ts";
import { acquireLock, isProcessAlive } from "../store/lock-file.ts";
import type { Policy } from "../store/store.ts";

export type AuditEvent = "get" | "resolve" | "store" | "delete" | "mint" | "revoke" | "inject" | "policy" | "login" | "logout";

/** The user's answer to a `confirm` policy prompt ("unsupported": nobody can be asked; "timeout": nobody answered, a no). */
export type ConsentAnswer = "accept" | "decline" | "cancel" | "timeout" | "unsupported";

/** One audit line. Only names and ids: the type has no field that could hold a value. */
export interface AuditEntry {
  event: AuditEvent;
  name?: string;
  purpose?: string;
  client?: string;
  reference?: string;
  tokenId?: string;
  provider?: string;
  /** `run`: the environment variable a secret was injected as. */
  env?: string;
  /** `policy`: the new policy. */
  policy?: Policy;
  /** A `confirm` secret: what the user answered. */
  consent?: ConsentAnswer;
  /** A `confirm` secret: who asked (client, terminal, zenity, kdialog, osascript, powershell), or "remembered". */
  approver?: string;
  /** A `confirm` secret approved with `--remember`: for how many more seconds this approval is remembered. */
  rememberFor?: number;
  /** HMAC-SHA256 fingerprint of the value stored or handed out (see fingerprint.ts): tells values apart, reveals nothing. */
  fp?: string;
  /** Written to the chain by another broker process from a stopped process's write-ahead file (see FileAuditLog). */
  recovered?: true;
  outcome: "ok" | "error";
  error?: string;
}

export interface AuditLog {
  /**
   * Queues a line and resolves once it is on disk (lines are chained in the order recorded;
   * an urgent one is on disk when it is in the write-ahead file). A failed write rejects,
   * and every later `record` then rejects at once.
   */
  record(entry: AuditEntry, opts?: { urgent?: boolean }): Promise<void>;
  /** Throws when an earlier line could not be written: operations refuse to run unaudited. */
  assertWritable(): void;
  /** Writes every queued line. */
  close(): Promise<void>;
}

/** How long a line nobody waits for may sit in the queue before its batch is written. */
export const BATCH_DELAY_MS = 5;

/** The `prev` of the very first line of a chain. */
export const GENESIS_PREV = "0".repeat(64);

/** A write-ahead file is `<log path>.pending.<pid>.<nonce>`. */
export const PENDING_INFIX = ".pending.";

/** Default size at which audit.jsonl is rotated (MCB_AUDIT_MAX_BYTES overrides it). */
export const DEFAULT_AUDIT_MAX_BYTES = 10 * 1024 * 1024;

/** SHA-256 hex of one line's exact bytes, without its newline: what the next line's `prev` holds. */
export function lineHash(line: Uint8Array | string): string {
  return createHash("sha256").update(line).digest("hex");
}

/** The text of one line (no newline): `seq` counts lines across rotations, `prev` chains them. */
export function formatAuditLine(entry: AuditEntry, time: number, seq: number, prev: string): string {
  return JSON.stringify({ time: new Date(time).toISOString(), ...entry, seq, prev });
}

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

/** The keys of AuditEntry (kept in step by the `satisfies` check below). */
const AUDIT_FIELDS: ReadonlySet<string> = new Set(
  Object.keys({ event: 0, name: 0, purpose: 0, client: 0, reference: 0, tokenId: 0, provider: 0, env: 0, policy: 0, consent: 0, approver: 0, rememberFor: 0, fp: 0, outcome: 0, error: 0 } satisfies Record<Exclude<keyof AuditEntry, "recovered">, 0>),
);

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
 * each becomes a queued line marked `recovered`, and the file is removed. A torn last line
 * (killed mid-write) is dropped: that process never answered with its value.
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

/** Where the chain stands: the hash and seq of the last line written. */
interface Head {
  hash: string;
  seq: number;
  /** False when the file ends in a torn line (a crash mid-write): the next line starts with a newline. */
  endsClean: boolean;
}

/** Reads the last line of an open file, scanning backwards in blocks; null for an empty file. */
function readHead(fd: number, size: number): Head | null {
  if (size === 0) return null;
  const endsClean = readAt(fd, size - 1, 1)[0] === 0x0a;
  const end = endsClean ? size - 1 : size;
  let lineStart = 0;
  for (let pos = end; pos > 0; ) {
    const from = Math.max(0, pos - 4096);
    const nl = readAt(fd, from, pos - from).lastIndexOf(0x0a);
    if (nl >= 0) {
      lineStart = from + nl + 1;
      break;
    }
    pos = from;
  }
  const line = readAt(fd, lineStart, end - lineStart);
  return { hash: lineHash(line), seq: seqOf(line), endsClean };
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

/**
 * Appends hash-chained lines to `path`. Several broker processes append to one log, so
 * each batch takes the lock `<path>.lock`, finds the chain's head (cached while the file
 * is unchanged), rotates when a line would push the file past `maxBytes`, and writes the
 * batch in one write. `record` resolves when its line is on disk: for a line that hands
 * out a value (`urgent`: resolve, inject, mint) that is this process's write-ahead file,
 * at once and without the lock; for the others, the chain, in the next batch.
 */
export class FileAuditLog implements AuditLog {
  readonly #path: string;
  readonly #lockPath: string;
  readonly #now: () => number;
  readonly #maxBytes: number;
  /** The head after our last append, valid while the file has the same inode and size. */
  #cache: { ino: number; size: number; head: Head } | null = null;
  #fd: number | null = null;
  #fdIno = -1;
  #dirReady = false;
  #queue: QueuedLine[] = [];
  #flushing: Promise<void> | null = null;
  /** Starts a delayed batch now (set while one waits for its timer). */
  #wake: (() => void) | null = null;
  #failure: BrokerError | null = null;
  /** This process's write-ahead file (see #writeAhead): lines waiting for the chain, on disk. */
  #wal: PendingFile | null = null;
  readonly #walPath: string;
  #recovered = false;

  constructor(opts: { path: string; now: () => number; maxBytes?: number }) {
    this.#path = opts.path;
    this.#lockPath = `${opts.path}.lock`;
    this.#now = opts.now;
    this.#maxBytes = opts.maxBytes ?? DEFAULT_AUDIT_MAX_BYTES;
    this.#walPath = `${opts.path}${PENDING_INFIX}${process.pid}.${randomBytes(4).toString("hex")}`;
  }

  assertWritable(): void {
    if (this.#failure) throw this.#failure;
  }

  async record(entry: AuditEntry, opts: { urgent?: boolean } = {}): Promise<void> {
    if (this.#failure) throw this.#failure;
    const done = Promise.withResolvers<void>();
    // The time is taken now, when the event happens, not when the batch is written.
    this.#queue.push({ entry, time: this.#now(), done, inWal: false });
    // Once in the write-ahead file a line is safe, so its chained append can wait for the
    // batch like any other line (a store → get → resolve sequence still takes one lock).
    // Without room there (a burst), it waits for the chain itself, as every line once did.
    this.#scheduleFlush(opts.urgent === true && !this.#writeAhead());
    return done.promise;
  }

  /**
   * A line someone waits for (a value about to be handed out) must be on disk before the
   * answer, but the chain needs the cross-process lock. So it goes first, with every line
   * queued before it, into this process's own write-ahead file (audit-pending.ts: a copy
   * into a shared mapping, or one write(2) where there is none), no lock;
   * the chained append follows with the next batch and empties the file.
   * A process killed in between leaves the file behind, and the next broker to write the
   * log appends its lines (marked `recovered`).
   */
  #writeAhead(): boolean {
    if (this.#failure) return true;
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
        this.#wal = openPendingFile(this.#walPath);
      }
      if (!this.#wal.append(Buffer.from(text))) return false;
    } catch (e) {
      this.#fail(e, []);
      return true;
    }
    for (const item of items) {
      item.inWal = true;
      item.done.resolve();
    }
    return true;
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

  /** Fail closed: this batch and everything after it is refused, and so is every later operation. */
  #fail(e: unknown, batch: QueuedLine[]): void {
    this.#failure = new BrokerError("IO_ERROR", `Cannot write the audit log ${this.#path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).name}. Free disk space or fix the data directory's permissions, then restart the broker.`, { cause: e });
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
        this.#ensureDir();
        release = await acquireLock(this.#lockPath);
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
      const found = recoverPending(this.#path, this.#walPath);
      batch = [...found.lines, ...batch];
      recoveredFiles = found.files;
    }
    let st = this.#statPath();
    if (this.#fd === null || st === null || this.#fdIno !== st.ino) {
      this.#closeFd();
      this.#fd = openSync(this.#path, "a+", 0o600);
      st = fstatSync(this.#fd);
      this.#fdIno = st.ino;
    }
    const cached = this.#cache && this.#cache.ino === st.ino && this.#cache.size === st.size ? this.#cache.head : null;
    // An empty live file continues the chain of the newest rotated file.
    let head = cached ?? readHead(this.#fd, st.size) ?? this.#rotatedHead() ?? { hash: GENESIS_PREV, seq: 0, endsClean: true };
    let size = st.size;
    let ino = st.ino;
    let pending = head.endsClean ? "" : "\n";
    let pendingBytes = pending.length; // kept alongside: measuring the whole batch per line was quadratic
    for (const { entry, time } of batch) {
      const text = formatAuditLine(entry, time, head.seq + 1, head.hash);
      const line = `${text}\n`;
      const lineBytes = Buffer.byteLength(line);
      if (size + pendingBytes > 0 && size + pendingBytes + lineBytes > this.#maxBytes) {
        // Rotate: finish the current file, then continue the chain in a fresh one.
        if (pending) writeSync(this.#fd!, pending);
        this.#closeFd();
        renameSync(this.#path, this.#nextRotatedPath());
        this.#fd = openSync(this.#path, "a+", 0o600);
        const fresh = fstatSync(this.#fd);
        this.#fdIno = ino = fresh.ino;
        size = fresh.size;
        pending = "";
        pendingBytes = 0;
      }
      pending += line;
      pendingBytes += lineBytes;
      head = { hash: lineHash(text), seq: head.seq + 1, endsClean: true };
    }
    const bytes = Buffer.from(pending);
    writeSync(this.#fd!, bytes); // one write(2) for the batch, O_APPEND
    this.#cache = { ino, size: size + bytes.length, head };
    // Only now that their lines are in the chain.
    for (const f of recoveredFiles) try { unlinkSync(f); } catch { /* removed meanwhile */ }
  }

  #statPath(): { ino: number; size: number } | null {
    try {
      return statSync(this.#path);
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
    const fd = openSync(newest.path, "r");
    try {
      return readHead(fd, fstatSync(fd).size);
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

/** Keeps entries in memory: for unit tests. */
export class MemoryAuditLog implements AuditLog {
  readonly entries: AuditEntry[] = [];
  async record(entry: AuditEntry): Promise<void> {
    this.entries.push(entry);
  }
  assertWritable(): void {}
  async close(): Promise<void> {}
}
