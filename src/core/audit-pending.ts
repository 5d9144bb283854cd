// A broker process's write-ahead file for audit lines (see FileAuditLog): lines that must be on
// disk before a value is handed out, kept until the hash chain has them. Where the platform can
// map a file shared (not Windows), appending is a copy into a mapped page: no system call, and
// the page cache holds it even if the process is killed the next instant (as after a write(2):
// neither is fsync'ed). Otherwise each append is one O_APPEND write(2).
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { sharedMapsSupported } from "../store/shared-lock.ts";

/** Bytes a mapped file holds; lines past it wait for the chain instead (a burst within one batch). */
export const PENDING_CAPACITY = 64 * 1024;

export interface PendingFile {
  /** Appends whole lines; false when they do not fit (the caller then waits for the chain). */
  append(bytes: Uint8Array): boolean;
  /** Every line is in the chain now. */
  clear(): void;
  close(): void;
}

/** Creates this process's pending file at `path` (0600); `mapped` false: the write(2) kind, as on Windows. */
export function openPendingFile(path: string, mapped = sharedMapsSupported()): PendingFile {
  return mapped ? new MappedPendingFile(path) : new AppendPendingFile(path);
}

/** The complete lines of a pending file of either kind: a mapped one ends at its first NUL byte. */
export function readPendingLines(path: string): string[] {
  const buf = readFileSync(path);
  const nul = buf.indexOf(0);
  const text = buf.subarray(0, nul < 0 ? buf.length : nul).toString("utf8");
  // A line without its newline was being written when the process died: it never answered.
  return text.split("\n").slice(0, -1);
}

class MappedPendingFile implements PendingFile {
  readonly #map: Uint8Array;
  #used = 0;

  constructor(path: string) {
    const fd = openSync(path, "wx", 0o600);
    try {
      ftruncateSync(fd, PENDING_CAPACITY); // zero-filled: NUL marks where the lines end
    } finally {
      closeSync(fd);
    }
    this.#map = Bun.mmap(path, { shared: true, size: PENDING_CAPACITY });
  }

  append(bytes: Uint8Array): boolean {
    if (this.#used + bytes.length > PENDING_CAPACITY) return false;
    this.#map.set(bytes, this.#used);
    this.#used += bytes.length;
    return true;
  }

  clear(): void {
    // From the front: killed half-way, the file already reads as empty (its lines are chained).
    this.#map.fill(0, 0, this.#used);
    this.#used = 0;
  }

  close(): void {
    /* unmapped with the process; the file is removed by the caller */
  }
}

class AppendPendingFile implements PendingFile {
  readonly #fd: number;

  constructor(path: string) {
    // O_APPEND: after clear() truncates the file, the next line lands at its start again.
    this.#fd = openSync(path, "ax", 0o600);
  }

  append(bytes: Uint8Array): boolean {
    // A short write (disk full) would leave a line half on disk: refuse, as for any failed write.
    if (writeSync(this.#fd, bytes) !== bytes.length) throw Object.assign(new Error("short write"), { code: "ENOSPC" });
    return true;
  }

  clear(): void {
    ftruncateSync(this.#fd, 0);
  }

  close(): void {
    try { closeSync(this.#fd); } catch { /* already closed */ }
  }
}
