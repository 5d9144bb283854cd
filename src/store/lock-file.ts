// A cross-process exclusive lock on a lock file (O_CREAT|O_EXCL), with stale-lock recovery.
import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { BrokerError } from "../errors.ts";

export interface LockOptions {
  /** Give up after this long (ms). */
  timeoutMs?: number;
  /** A lock older than this (ms) is stale even if its pid is alive (pid reuse, a hung holder). */
  staleMs?: number;
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** How long a lock file may exist without a readable pid before it counts as abandoned. */
const UNREADABLE_GRACE_MS = 2_000;

/**
 * Whether a lock's holder is gone: older than `staleMs`, or a dead pid. O_EXCL create
 * and the pid write are two steps, so a file without a pid yet is being taken right now:
 * it is stale only once it has stayed unreadable for a while.
 */
function isStale(holder: { pid: number; ageMs: number }, staleMs: number): boolean {
  if (holder.ageMs > staleMs) return true;
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) return holder.ageMs > UNREADABLE_GRACE_MS;
  return !isProcessAlive(holder.pid);
}

/**
 * Creates the lock file holding our pid, or returns null when it exists. The content is
 * written to a private temp file first and hard-linked into place (link fails with
 * EEXIST atomically), so a lock file is never seen empty. Returns the content written,
 * which identifies this holder.
 */
function tryCreate(path: string): string | null {
  const line = `${process.pid} ${Date.now()} ${randomBytes(6).toString("hex")}\n`;
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    writeFileSync(tmp, line, { mode: 0o600, flag: "wx" });
    linkSync(tmp, path);
    return line;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return null;
    throw new BrokerError("IO_ERROR", `Cannot create lock file ${path}: ${(e as NodeJS.ErrnoException).code ?? "error"}. Check the data directory's permissions.`, { cause: e });
  } finally {
    try { unlinkSync(tmp); } catch { /* never created */ }
  }
}

/** Reads the holder of a lock file; null when it vanished meanwhile. */
function readHolder(path: string): { raw: string; pid: number; ageMs: number } | null {
  try {
    const raw = readFileSync(path, "utf8");
    const pid = Number.parseInt(raw, 10);
    return { raw, pid, ageMs: Date.now() - statSync(path).mtimeMs };
  } catch {
    return null;
  }
}

/**
 * Removes `path` if it is still the stale lock we saw. A second, short-lived "break"
 * lock serialises breakers, so two processes that both saw the same stale lock cannot
 * each delete it and then delete the other's fresh one.
 */
function breakStaleLock(path: string, seen: string): void {
  const breaker = `${path}.break`;
  if (tryCreate(breaker) === null) {
    const b = readHolder(breaker);
    if (b && isStale(b, 5_000)) {
      try { unlinkSync(breaker); } catch { /* someone else removed it */ }
    }
    return;
  }
  try {
    const now = readHolder(path);
    if (now && now.raw === seen) unlinkSync(path);
  } finally {
    try { unlinkSync(breaker); } catch { /* already gone */ }
  }
}

/**
 * Acquires an exclusive lock and returns its release function. A lock whose holder
 * process is gone (e.g. SIGKILLed mid-write) is broken at once; a live one is waited for.
 */
export async function acquireLock(path: string, opts: LockOptions = {}): Promise<() => void> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const staleMs = opts.staleMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  for (;;) {
    const mine = tryCreate(path);
    if (mine !== null) {
      // Remove the lock only while it is still ours: had it been broken as stale, the
      // file may now belong to another process.
      return () => {
        if (readHolder(path)?.raw !== mine) return;
        try { unlinkSync(path); } catch { /* removed meanwhile */ }
      };
    }
    const holder = readHolder(path);
    if (holder && isStale(holder, staleMs)) {
      breakStaleLock(path, holder.raw);
      await new Promise((r) => setTimeout(r, 1));
      continue;
    }
    if (Date.now() > deadline) {
      throw new BrokerError("STORE_LOCKED", `Timed out waiting for the store lock ${path} (held by pid ${holder?.pid ?? "?"}). If no broker process is running, delete that file.`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 20);
  }
}
