// A cross-process lock and change counter in a small file mapped into every broker process
// (MAP_SHARED): taking and releasing the lock is one atomic compare-and-swap, and "did any
// process change the store since I last looked?" is one memory read. The hard-link lock
// (lock-file.ts) costs a link, two stats and an unlink per write, and a stat per read.
import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, ftruncateSync, linkSync, openSync, statSync, unlinkSync, writeSync } from "node:fs";
import { BrokerError, fsFix } from "../errors.ts";
import { isProcessAlive, type LockOptions } from "./lock-file.ts";

/** Bytes mapped: the holder word, the generation, a format marker, room to grow. */
const SIZE = 64;
/** BigInt64 index 0: the holder, (pid << 32) | seconds since the epoch when taken; 0n when free. */
const HOLDER = 0;
/** Int32 index 2 (bytes 8-11): counts changes to the store, bumped under the lock after each one. */
const GENERATION = 2;

const TWO_32 = 1n << 32n;

/** Whether this platform can map a file shared between processes (Bun.mmap: not on Windows). */
export function sharedMapsSupported(platform: NodeJS.Platform = process.platform): boolean {
  return platform !== "win32" && typeof Bun !== "undefined" && typeof Bun.mmap === "function";
}

export class SharedLock {
  readonly #holder: BigInt64Array;
  readonly #words: Int32Array;
  readonly path: string;

  private constructor(path: string, map: Uint8Array) {
    this.path = path;
    this.#holder = new BigInt64Array(map.buffer, map.byteOffset, 1);
    this.#words = new Int32Array(map.buffer, map.byteOffset, SIZE / 4);
  }

  /**
   * Maps `path` (created 0600 and sized on first use; it holds no secret, only a pid, a
   * time and a counter). Every process of one data dir must use the same kind of lock,
   * so a failure here is an error, not a silent fallback to another kind.
   */
  static open(path: string): SharedLock {
    try {
      createAllocated(path);
      const fd = openSync(path, "a+", 0o600);
      try {
        // Only ever grown: another process may have it mapped already. (Only a file an older
        // version created, or one cut by hand, is short here.)
        if (fstatSync(fd).size < SIZE) ftruncateSync(fd, SIZE);
      } finally {
        closeSync(fd);
      }
      return new SharedLock(path, Bun.mmap(path, { shared: true, size: SIZE }));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const fix = code && code !== "ENODEV" ? fsFix(code) : "keep the data directory (MCB_HOME) on a local disk";
      throw new BrokerError("IO_ERROR", `Cannot map the store's lock file ${path}: ${code ?? (e as Error).message} (${fix}).`, { cause: e });
    }
  }

  /** Changes counted so far (wraps at 2^32: compare for equality only). */
  get generation(): number {
    return Atomics.load(this.#words, GENERATION);
  }

  /** Tells every process that the store changed. Call while holding the lock. */
  bump(): void {
    Atomics.add(this.#words, GENERATION, 1);
  }

  /** Takes the lock if it is free right now; its release function, or null when held. */
  tryAcquire(): (() => void) | null {
    const mine = BigInt(process.pid) * TWO_32 + BigInt(Math.floor(Date.now() / 1000));
    if (Atomics.compareExchange(this.#holder, HOLDER, 0n, mine) !== 0n) return null;
    return this.#releaser(mine);
  }

  /**
   * Takes the lock, waiting while a live process holds it. A holder whose process is gone
   * (SIGKILLed mid-write) is replaced at once; one holding it longer than `staleMs` (a hung
   * process, or a dead one whose pid was reused) too.
   */
  async acquire(opts: LockOptions = {}): Promise<() => void> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const staleMs = opts.staleMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let delay = 1;
    for (;;) {
      const release = this.tryAcquire();
      if (release) return release;
      const seen = Atomics.load(this.#holder, HOLDER);
      const pid = Number(seen / TWO_32);
      const takenAt = Number(seen % TWO_32) * 1000;
      if (seen !== 0n && (!isProcessAlive(pid) || Date.now() - takenAt > staleMs)) {
        // Replace exactly the holder we judged: if it changed meanwhile, judge again.
        const mine = BigInt(process.pid) * TWO_32 + BigInt(Math.floor(Date.now() / 1000));
        if (Atomics.compareExchange(this.#holder, HOLDER, seen, mine) === seen) return this.#releaser(mine);
        continue;
      }
      if (Date.now() > deadline) {
        throw new BrokerError("STORE_LOCKED", `Timed out waiting for the store lock ${this.path} (held by pid ${pid}). Stop that process, or if it is not a broker, delete that file.`);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 20);
    }
  }

  /** The holder word when the lock is held (for tests and diagnostics): pid and time taken. */
  holder(): { pid: number; takenAt: number } | null {
    const seen = Atomics.load(this.#holder, HOLDER);
    return seen === 0n ? null : { pid: Number(seen / TWO_32), takenAt: Number(seen % TWO_32) * 1000 };
  }

  #releaser(mine: bigint): () => void {
    // Only while it is still ours: had it been broken as stale, it now belongs to another process.
    return () => void Atomics.compareExchange(this.#holder, HOLDER, mine, 0n);
  }
}

/**
 * Creates `path` with its SIZE bytes really written, then links it into place (link(2) fails
 * with EEXIST, so a file another process created and maps is never touched). A file sized
 * by ftruncate alone is sparse: on a full disk the first store into its mapping finds no
 * block to allocate, and Linux ends the process with SIGBUS (seen here on a full tmpfs). A
 * written file has its block, so a full disk is an ENOSPC error here instead.
 */
function createAllocated(path: string): void {
  try {
    statSync(path);
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    try {
      const zeros = Buffer.alloc(SIZE);
      for (let done = 0; done < SIZE; ) done += writeSync(fd, zeros, done, SIZE - done);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e; // another process created it first
    }
  } finally {
    try { unlinkSync(tmp); } catch { /* gone */ }
  }
}
