// A broker process's write-ahead file for audit lines that must be written before an answer
// (a value handed out, a change about to be made): each append is one O_APPEND write(2) into
// `audit.jsonl.pending.<pid>.<nonce>`, with no lock, and the lines stay there until the hash
// chain has them. The same code on every OS; a failed write is an error, never a signal.
import { closeSync, ftruncateSync, openSync } from "node:fs";
import { readDataFile } from "./data-files.ts";
import { writeWhole } from "./torn-files.ts";

/** The complete lines of a pending file (a line without its newline was being written when its process died: it never answered). */
export function readPendingLines(path: string): string[] {
  return readDataFile(path, "utf8").split("\n").slice(0, -1);
}

export class PendingFile {
  readonly #fd: number;
  /** Bytes in the file: only this process writes it. */
  #size = 0;

  /** Creates the file (0600, O_EXCL: never an existing file or a link planted at that name). */
  constructor(path: string) {
    this.#fd = openSync(path, "ax", 0o600);
  }

  /**
   * Appends whole lines. A write cut short (a full disk: POSIX write(2) may store part of the
   * bytes, then fail with ENOSPC) is cut back, so no torn line stays, and throws.
   */
  append(bytes: Uint8Array): void {
    writeWhole(this.#fd, bytes, (e) => {
      try {
        ftruncateSync(this.#fd, this.#size);
      } catch {
        /* a torn last line is dropped on recovery */
      }
      return e as Error;
    });
    this.#size += bytes.length;
  }

  /** Every line is in the chain now. O_APPEND: the next line lands at the start again. */
  clear(): void {
    ftruncateSync(this.#fd, 0);
    this.#size = 0;
  }

  close(): void {
    try { closeSync(this.#fd); } catch { /* already closed */ }
  }
}
