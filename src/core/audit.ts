// The audit log: one JSON line per credential operation, hash-chained, appended to audit.jsonl
// under a lock and rotated at a size limit. Never a value: at most its HMAC fingerprint.
import { createHash } from "node:crypto";
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { acquireLock } from "../store/lock-file.ts";
import type { Policy } from "../store/store.ts";

export type AuditEvent = "get" | "resolve" | "store" | "delete" | "mint" | "revoke" | "inject" | "policy";

/** The user's answer to a `confirm` policy prompt ("unsupported": the client cannot ask). */
export type ConsentAnswer = "accept" | "decline" | "cancel" | "unsupported";

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
  /** HMAC-SHA256 fingerprint of the value stored or handed out (see fingerprint.ts): tells values apart, reveals nothing. */
  fp?: string;
  outcome: "ok" | "error";
  error?: string;
}

export interface AuditLog {
  /** Resolves once the line is written; a failure rejects (the operation then fails too). */
  record(entry: AuditEntry): Promise<void>;
  close(): void;
}

/** The `prev` of the very first line of a chain. */
export const GENESIS_PREV = "0".repeat(64);

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
 * each append takes the lock `<path>.lock`, finds the chain's head (cached while the
 * file is unchanged), rotates when the line would push the file past `maxBytes`, and
 * writes the line in one write. A line is written before the operation answers.
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

  constructor(opts: { path: string; now: () => number; maxBytes?: number }) {
    this.#path = opts.path;
    this.#lockPath = `${opts.path}.lock`;
    this.#now = opts.now;
    this.#maxBytes = opts.maxBytes ?? DEFAULT_AUDIT_MAX_BYTES;
  }

  async record(entry: AuditEntry): Promise<void> {
    if (!this.#dirReady) {
      mkdirSync(dirname(this.#path), { recursive: true, mode: 0o700 });
      this.#dirReady = true;
    }
    const release = await acquireLock(this.#lockPath);
    try {
      this.#append(entry);
    } finally {
      release();
    }
  }

  /**
   * Runs under the lock. The append fd stays open between lines (a line costs a stat and
   * a write, not an open and a close too); a stat of the path says whether another
   * process rotated the file meanwhile, and then the fd is reopened.
   */
  #append(entry: AuditEntry): void {
    let st = this.#statPath();
    if (this.#fd === null || st === null || this.#fdIno !== st.ino) {
      this.#closeFd();
      this.#fd = openSync(this.#path, "a+", 0o600);
      st = fstatSync(this.#fd);
      this.#fdIno = st.ino;
    }
    const cached = this.#cache && this.#cache.ino === st.ino && this.#cache.size === st.size ? this.#cache.head : null;
    // An empty live file continues the chain of the newest rotated file.
    const head = cached ?? readHead(this.#fd, st.size) ?? this.#rotatedHead() ?? { hash: GENESIS_PREV, seq: 0, endsClean: true };
    const text = formatAuditLine(entry, this.#now(), head.seq + 1, head.hash);
    let bytes = Buffer.from(`${head.endsClean ? "" : "\n"}${text}\n`);
    if (st.size > 0 && st.size + bytes.length > this.#maxBytes) {
      this.#closeFd();
      renameSync(this.#path, this.#nextRotatedPath());
      this.#fd = openSync(this.#path, "a+", 0o600);
      st = fstatSync(this.#fd);
      this.#fdIno = st.ino;
      bytes = Buffer.from(`${text}\n`);
    }
    writeSync(this.#fd, bytes);
    this.#cache = { ino: st.ino, size: st.size + bytes.length, head: { hash: lineHash(text), seq: head.seq + 1, endsClean: true } };
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

  close(): void {
    this.#cache = null;
    this.#closeFd();
  }
}

/** Keeps entries in memory: for unit tests. */
export class MemoryAuditLog implements AuditLog {
  readonly entries: AuditEntry[] = [];
  async record(entry: AuditEntry): Promise<void> {
    this.entries.push(entry);
  }
  close(): void {}
}
