// The lock port: a cross-process exclusive lock by name, which the core takes around "create
// if missing" (internal items) and the OAuth side around logins and refreshes. The data dir's
// lock files implement it (src/files/lock-file.ts); tests pass `(_name, fn) => fn()`.

export interface LockOptions {
  /** Give up after this long (ms). */
  timeoutMs?: number;
  /** A lock older than this (ms) is stale even if its pid is alive (pid reuse, a hung holder). */
  staleMs?: number;
  /** The wall clock a lock's age is measured with (tests move it; default Date.now). */
  now?: () => number;
}

/** Runs `fn` holding the cross-process lock `name` (the lock file `<name>.lock` in the data dir). */
export type WithLock = <T>(name: string, fn: () => Promise<T>, opts?: LockOptions) => Promise<T>;
