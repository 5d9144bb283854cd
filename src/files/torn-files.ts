// Appending whole lines to a data-dir log, and the copies of torn bytes a writer cuts off a
// log (`<log>.torn-<time>`, kept a week at most): shared by the secrets log (store/file.ts)
// and the audit log.
import { closeSync, lstatSync, openSync, readdirSync, readSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

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

/** The byte before `size` in `fd` (a log's last byte: "\n" when its last line is whole), or -1 when it cannot be read. */
export function lastByte(fd: number, size: number): number {
  const b = Buffer.alloc(1);
  try {
    return readSync(fd, b, 0, 1, size - 1) === 1 ? b[0]! : -1;
  } catch {
    return -1;
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
    pruneTornFiles(logPath, now.getTime());
    return;
  }
}

/** How long a torn-bytes copy is kept, and how many at most per log (the newest). */
export const TORN_KEEP = { maxAgeMs: 7 * 24 * 3_600_000, maxCount: 10 } as const;

/** The torn-bytes copies of `logPath`, newest first: path, size and when they were made. */
export function tornFiles(logPath: string): { path: string; size: number; mtimeMs: number }[] {
  const dir = dirname(logPath);
  const prefix = `${basename(logPath)}${TORN_INFIX}`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(prefix))
    .flatMap((n) => {
      try {
        const st = lstatSync(join(dir, n));
        return st.isFile() ? [{ path: join(dir, n), size: st.size, mtimeMs: st.mtimeMs }] : [];
      } catch {
        return []; // removed meanwhile
      }
    })
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
}

/**
 * Removes the copies of `logPath` older than TORN_KEEP.maxAgeMs, and all but the newest
 * TORN_KEEP.maxCount: a torn write of the secrets log may hold part of a value that was never
 * acknowledged, which should not outlive the week it is there to be looked at. Best effort (a
 * read-only data dir keeps them); returns how many were removed.
 */
export function pruneTornFiles(logPath: string, now: number = Date.now()): number {
  let removed = 0;
  tornFiles(logPath).forEach((f, i) => {
    if (i < TORN_KEEP.maxCount && now - f.mtimeMs <= TORN_KEEP.maxAgeMs) return;
    try {
      unlinkSync(f.path);
      removed++;
    } catch {
      /* read-only, or removed meanwhile */
    }
  });
  return removed;
}
