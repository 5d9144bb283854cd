// Appending whole lines to a data-dir log, and the copies of torn bytes a writer cuts off a
// log (`<log>.torn-<time>`): shared by the secrets log (store/file.ts) and the audit log.
import { closeSync, openSync, unlinkSync, writeSync } from "node:fs";

/**
 * Writes all of `bytes` at the end of an O_APPEND fd: write(2) may store fewer bytes than
 * asked (POSIX.1-2017 write(): a full disk, a signal), and then the rest is written (callers
 * hold the log's lock, so nothing else lands between). On failure `fail` undoes what was
 * written and builds the error to throw.
 */
export function writeWhole(fd: number, bytes: Uint8Array, fail: (e: unknown) => Error): void {
  let done = 0;
  while (done < bytes.length) {
    let n: number;
    try {
      n = writeSync(fd, bytes, done, bytes.length - done);
    } catch (e) {
      throw fail(e);
    }
    if (n <= 0) throw fail(Object.assign(new Error("write stored nothing"), { code: "EIO", syscall: "write" }));
    done += n;
  }
}

/** The infix of a torn-bytes copy: `<log>.torn-<ISO time with - for : and .>[-n]`. */
export const TORN_INFIX = ".torn-";

/**
 * Writes bytes a writer is about to cut off `logPath` (a line whose write was interrupted:
 * never acknowledged, but never discarded unseen either) to `<logPath>.torn-<time>`, 0600,
 * one chunk per line. Throws the file-system error (the caller names it and refuses its write).
 */
export function keepTornBytes(logPath: string, chunks: Uint8Array[], now: Date = new Date()): void {
  if (chunks.length === 0) return;
  const base = `${logPath}${TORN_INFIX}${now.toISOString().replace(/[:.]/g, "-")}`;
  const bytes = Buffer.concat(chunks.flatMap((c) => [c, Buffer.from("\n")]));
  for (let i = 0; ; i++) {
    const file = i === 0 ? base : `${base}-${i}`;
    let fd: number;
    try {
      fd = openSync(file, "wx", 0o600); // O_EXCL: never through a link planted at that name
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw e;
    }
    try {
      writeWhole(fd, bytes, (e) => {
        try { unlinkSync(file); } catch { /* gone */ }
        return e as Error;
      });
    } finally {
      closeSync(fd);
    }
    return;
  }
}
