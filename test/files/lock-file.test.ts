// The cross-process lock file: exclusion, waiting, timeouts and stale-lock recovery.
import { afterEach, describe, expect, it } from "bun:test";
import type { Subprocess } from "bun";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BrokerError } from "../../src/errors.ts";
import { dataFiles } from "../../src/paths.ts";
import { acquireLock, dirLocks } from "../../src/files/lock-file.ts";

const WRITER = resolve(import.meta.dir, "../fixtures/store-writer.ts");
const dirs: string[] = [];
const children: Subprocess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function lockPath(): string {
  const d = mkdtempSync(join(tmpdir(), "mcb-lock-"));
  dirs.push(d);
  return join(d, "test.lock");
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  const p = Bun.spawnSync([process.execPath, "-e", ""]);
  expect(p.exitCode).toBe(0);
  return p.pid;
}

/** Sets a file's mtime `ms` into the past. */
/**
 * Lets a lock file grow older than `ms`. Age is read from ctime (link(2) stamps it when a
 * lock is taken), which no call can set back, so this waits for real: keep `ms` small.
 */
async function age(_path: string, ms: number): Promise<void> {
  await Bun.sleep(ms + 20);
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BrokerError);
    return { code: (e as BrokerError).code, message: (e as BrokerError).message };
  }
  throw new Error("expected a BrokerError, but the lock was acquired");
}

describe("acquireLock", () => {
  it("creates a 0600 lock file naming this pid and removes it on release", async () => {
    const path = lockPath();
    const release = await acquireLock(path);
    expect(readFileSync(path, "utf8")).toStartWith(`${process.pid} `);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    release();
    expect(existsSync(path)).toBe(false);
  });

  it("serialises two acquirers in one process: the second gets the lock only after the first releases", async () => {
    const path = lockPath();
    const events: string[] = [];
    const releaseA = await acquireLock(path);
    events.push("A acquired");
    const b = acquireLock(path, { timeoutMs: 30_000 }).then((release) => {
      events.push("B acquired");
      return release;
    });
    await Bun.sleep(60); // B polls the held lock meanwhile
    events.push("A releasing");
    releaseA();
    (await b)();
    expect(events).toEqual(["A acquired", "A releasing", "B acquired"]);
  });

  it("lets only one of 20 concurrent acquirers in at a time", async () => {
    const path = lockPath();
    let inside = 0;
    let most = 0;
    let entered = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const release = await acquireLock(path, { timeoutMs: 30_000 });
        inside++;
        entered++;
        most = Math.max(most, inside);
        await Bun.sleep(1);
        inside--;
        release();
      }),
    );
    expect(entered).toBe(20);
    expect(most).toBe(1);
    expect(existsSync(path)).toBe(false);
  });

  it("times out on a lock held by a live process with STORE_LOCKED naming its pid, and leaves it in place", async () => {
    const dir = join(lockPath(), "..");
    const holder = Bun.spawn([process.execPath, WRITER, "hold-lock", dir], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
    children.push(holder);
    const reader = holder.stdout.getReader();
    let out = "";
    while (!out.includes("locked\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("lock holder exited early");
      out += new TextDecoder().decode(value);
    }
    const held = join(dir, dataFiles.secretsLock);
    const before = readFileSync(held, "utf8");
    const e = await codeOf(acquireLock(held, { timeoutMs: 150 }));
    expect(e.code).toBe("STORE_LOCKED");
    expect(e.message).toContain(String(holder.pid));
    expect(e.message).toContain(held);
    expect(readFileSync(held, "utf8")).toBe(before);
    holder.kill("SIGKILL");
    await holder.exited;
  }, 30_000);

  it("breaks a lock held by a dead pid", async () => {
    const path = lockPath();
    const pid = deadPid();
    writeFileSync(path, `${pid} ${Date.now()}\n`, { mode: 0o600 });
    // staleMs far above the timeout: only the dead pid can explain getting the lock.
    const release = await acquireLock(path, { timeoutMs: 5_000, staleMs: 600_000 });
    expect(readFileSync(path, "utf8")).toStartWith(`${process.pid} `);
    release();
    expect(existsSync(`${path}.break`)).toBe(false);
  });

  it("breaks a lock older than staleMs even when its pid is alive", async () => {
    const path = lockPath();
    writeFileSync(path, `${process.pid} ${Date.now()}\n`, { mode: 0o600 });
    await age(path, 100);
    const release = await acquireLock(path, { timeoutMs: 5_000, staleMs: 100 });
    expect(readFileSync(path, "utf8")).toStartWith(`${process.pid} `);
    release();
  });

  it("breaks a lock whose time is far in the future (the clock was stepped back) even when its pid is alive", async () => {
    const path = lockPath();
    writeFileSync(path, `${process.pid} ${Date.now()}\n`, { mode: 0o600 });
    // ctime cannot be set: a clock an hour behind the lock's makes its time an hour ahead.
    const behind = () => Date.now() - 3_600_000;
    const release = await acquireLock(path, { timeoutMs: 2_000, staleMs: 30_000, now: behind });
    expect(readFileSync(path, "utf8")).toStartWith(`${process.pid} `);
    release();
    // A lock a moment in the future (a small step back) is still a live holder's: waited for.
    writeFileSync(path, `${process.pid} ${Date.now()}\n`, { mode: 0o600 });
    const e = await codeOf(acquireLock(path, { timeoutMs: 150, staleMs: 30_000, now: () => Date.now() - 2_000 }));
    expect(e.code).toBe("STORE_LOCKED");
  });

  it("does not break a fresh lock whose holder has created it but not written its pid yet", async () => {
    // O_EXCL create and the pid write are two steps; another process can see the empty
    // file in between. Breaking it would let two writers in at once and lose a write.
    const path = lockPath();
    writeFileSync(path, "", { mode: 0o600 });
    const e = await codeOf(acquireLock(path, { timeoutMs: 150 }));
    expect(e.code).toBe("STORE_LOCKED");
    expect(existsSync(path)).toBe(true);
  });

  it("breaks an unreadable lock file once it is old", async () => {
    const path = lockPath();
    writeFileSync(path, "not a pid\n", { mode: 0o600 });
    await age(path, 100);
    const release = await acquireLock(path, { timeoutMs: 5_000, staleMs: 100 });
    expect(readFileSync(path, "utf8")).toStartWith(`${process.pid} `);
    release();
  });

  it("clears a break-lock left by a dead breaker, then breaks the dead holder's lock", async () => {
    const path = lockPath();
    const pid = deadPid();
    writeFileSync(path, `${pid} ${Date.now()}\n`, { mode: 0o600 });
    writeFileSync(`${path}.break`, `${pid} ${Date.now()}\n`, { mode: 0o600 });
    const release = await acquireLock(path, { timeoutMs: 5_000, staleMs: 600_000 });
    expect(readFileSync(path, "utf8")).toStartWith(`${process.pid} `);
    release();
    expect(existsSync(`${path}.break`)).toBe(false);
  });
});

describe("dirLocks (the core's WithLock over lock files)", () => {
  it("creates the directory, runs fn holding <dir>/<name>.lock, releases it after, also when fn throws", async () => {
    const dir = join(lockPath(), "..", "data");
    const withLock = dirLocks(dir);
    const seen = await withLock("job", async () => existsSync(join(dir, "job.lock")));
    expect(seen).toBe(true);
    expect(existsSync(join(dir, "job.lock"))).toBe(false);
    await expect(withLock("job", async () => { throw new Error("boom"); })).rejects.toThrow("boom");
    expect(existsSync(join(dir, "job.lock"))).toBe(false);
  });

  it("serialises callers of one name", async () => {
    const withLock = dirLocks(join(lockPath(), "..", "data"));
    const order: string[] = [];
    const run = (id: string) => withLock("same", async () => { order.push(`${id}+`); await Bun.sleep(20); order.push(`${id}-`); });
    await Promise.all([run("a"), run("b")]);
    expect(order).toEqual(["a+", "a-", "b+", "b-"]);
  });
});
