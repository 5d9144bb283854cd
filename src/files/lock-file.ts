// A cross-process exclusive lock: a hard link to a per-process holder file, with stale-lock recovery.
import { randomBytes } from "node:crypto";
import { linkSync, lstatSync, mkdirSync, unlinkSync, writeFileSync } from "node:fs";
import { readDataFile } from "./data-files.ts";
import { BrokerError, fsFix } from "../errors.ts";
import type { LockOptions, WithLock } from "../core/lock.ts";
import { join } from "node:path";

// The options are the core's lock port (src/core/lock.ts): this file implements it.
export type { LockOptions } from "../core/lock.ts";

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
 * Whether a lock's holder is gone: older than `staleMs` (pid reuse, a hung holder), or a
 * dead pid. Our locks appear with their content (link), so a lock without a readable pid
 * was left by something else: it is broken only once it has stayed that way a while.
 *
 * A lock time in the future is not trusted to mean "just taken": the clock was stepped back
 * since (NTP, a resumed VM, a real-time clock behind at boot), and a live pid may be another
 * process by now. Its distance from now counts either way, so such a lock still goes stale.
 */
function isStale(holder: { pid: number; ageMs: number }, staleMs: number): boolean {
  const age = Math.abs(holder.ageMs);
  if (age > staleMs) return true;
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) return age > Math.min(UNREADABLE_GRACE_MS, staleMs);
  return !isProcessAlive(holder.pid);
}

/** Per lock path: this process's holder file (created once) and its content. */
const holderFiles = new Map<string, { file: string; content: string; ino: number }>();
let exitHookInstalled = false;

/** This process's holder file for `path`: `<path>.<pid>.<hex>` holding "pid nonce". */
function holderFile(path: string): { file: string; content: string; ino: number } {
  let h = holderFiles.get(path);
  if (h) return h;
  const content = `${process.pid} ${randomBytes(8).toString("hex")}\n`;
  const file = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    writeFileSync(file, content, { mode: 0o600, flag: "wx" }); // O_EXCL: never through a link
  } catch (e) {
    // Created but not written (a full disk): leave no empty holder file behind.
    try { unlinkSync(file); } catch { /* never created */ }
    throw e;
  }
  h = { file, content, ino: lstatSync(file).ino };
  holderFiles.set(path, h);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const { file: f } of holderFiles.values()) try { unlinkSync(f); } catch { /* gone */ }
    });
  }
  return h;
}

/**
 * Takes the lock by hard-linking our holder file to `path` (link fails with EEXIST
 * atomically, and the lock is never seen empty), or returns null when it is held.
 * A link costs ≈10 µs where creating a file costs ≈250 µs on this kind of disk, and a
 * lock is taken for every write. Returns our holder file, whose inode identifies the lock as ours.
 */
function tryCreate(path: string): { content: string; ino: number } | null {
  try {
    const h = holderFile(path);
    linkSync(h.file, path);
    return h;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return null;
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      // Our holder file was removed (e.g. orphan clean-up by a process that misjudged us): make a new one.
      holderFiles.delete(path);
    }
    const code = (e as NodeJS.ErrnoException).code;
    throw new BrokerError(code === "EROFS" ? "STORE_READ_ONLY" : "IO_ERROR", `Cannot create lock file ${path}: ${code ?? "error"} (${fsFix(code)}).`, { cause: e });
  }
}

/** Reads the holder of a lock file; null when it vanished meanwhile. */
function readHolder(path: string, now: () => number): { raw: string; pid: number; ageMs: number } | null {
  try {
    // Never through a link planted at the lock's name (data-files.ts): such a lock reads as unreadable.
    const raw = readDataFile(path, "utf8");
    const pid = Number.parseInt(raw, 10);
    // ctime, not mtime: link() stamps ctime when the lock is taken; mtime is when the
    // holder file was first written, possibly long before.
    return { raw, pid, ageMs: now() - lstatSync(path).ctimeMs };
  } catch {
    return null;
  }
}

/**
 * Removes `path` if it is still the stale lock we saw. A second, short-lived "break"
 * lock serialises breakers, so two processes that both saw the same stale lock cannot
 * each delete it and then delete the other's fresh one.
 */
function breakStaleLock(path: string, seen: string, now: () => number): void {
  const breaker = `${path}.break`;
  if (tryCreate(breaker) === null) {
    const b = readHolder(breaker, now);
    if (b && isStale(b, 5_000)) {
      try { unlinkSync(breaker); } catch { /* someone else removed it */ }
    }
    return;
  }
  try {
    const current = readHolder(path, now);
    if (current && current.raw === seen) unlinkSync(path);
  } finally {
    try { unlinkSync(breaker); } catch { /* already gone */ }
  }
}

/**
 * Takes the lock if it is free right now, without waiting; returns its release function,
 * or null when another holder has it. For callers on a hot path that can fall back to
 * `acquireLock`.
 */
export function tryAcquireLock(path: string): (() => void) | null {
  const mine = tryCreate(path);
  if (mine === null) return null;
  // Remove the lock only while it is still ours (a link to our holder file: same inode):
  // had it been broken as stale, it may now belong to another process.
  return () => {
    try {
      if (lstatSync(path).ino === mine.ino) unlinkSync(path);
    } catch { /* removed meanwhile */ }
  };
}

/**
 * Acquires an exclusive lock and returns its release function. A lock whose holder
 * process is gone (e.g. SIGKILLed mid-write) is broken at once; a live one is waited for.
 */
export async function acquireLock(path: string, opts: LockOptions = {}): Promise<() => void> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const staleMs = opts.staleMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  for (;;) {
    const release = tryAcquireLock(path);
    if (release) return release;
    const holder = readHolder(path, now);
    if (holder && isStale(holder, staleMs)) {
      breakStaleLock(path, holder.raw, now);
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

/**
 * The core's WithLock (src/core/lock.ts) over lock files in `dir`: `fn` runs holding
 * `<dir>/<name>.lock`, the directory created (private) first.
 */
export function dirLocks(dir: string): WithLock {
  return async (name, fn, opts) => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const release = await acquireLock(join(dir, `${name}.lock`), opts);
    try {
      return await fn();
    } finally {
      release();
    }
  };
}
