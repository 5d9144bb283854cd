// The file store's shared-memory lock and change counter: real processes mapping one file.
import { describe, expect, it } from "bun:test";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SharedLock, sharedMapsSupported } from "../../src/store/shared-lock.ts";
import { codeOf } from "../support/broker-error.ts";

const lockPath = () => join(mkdtempSync(join(tmpdir(), "mcb-shm-")), "secrets.shm");

/** A child that maps the lock and runs `body` (TypeScript source) with `lock` in scope. */
function child(path: string, body: string) {
  const src = `import { SharedLock } from ${JSON.stringify(join(import.meta.dir, "../../src/store/shared-lock.ts"))};
const lock = SharedLock.open(${JSON.stringify(path)});
${body}`;
  const file = join(mkdtempSync(join(tmpdir(), "mcb-shm-child-")), "child.ts");
  writeFileSync(file, src);
  return Bun.spawn([process.execPath, file], { stdout: "pipe", stderr: "pipe" });
}

describe.skipIf(process.platform === "win32")("SharedLock", () => {
  it("is available on this platform (Windows uses the hard-link lock instead)", () => {
    expect(sharedMapsSupported()).toBe(true);
    expect(sharedMapsSupported("win32")).toBe(false);
  });

  it("creates a 0600 file of 64 bytes that holds no more than a pid, a time and a counter", () => {
    const path = lockPath();
    const lock = SharedLock.open(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(path).size).toBe(64);
    expect(lock.holder()).toBeNull();
    const release = lock.tryAcquire()!;
    expect(lock.holder()).toEqual({ pid: process.pid, takenAt: expect.any(Number) });
    expect(Math.abs(lock.holder()!.takenAt - Date.now())).toBeLessThan(2_000);
    expect(lock.tryAcquire()).toBeNull();
    release();
    expect(lock.holder()).toBeNull();
  });

  it("excludes across processes: 4 processes × 2,000 unguarded read-modify-writes of a shared counter lose none", async () => {
    const path = lockPath();
    const body = `
const words = new Int32Array(Bun.mmap(${JSON.stringify(path)}, { shared: true }).buffer, 0, 16);
for (let i = 0; i < 2000; i++) {
  const release = lock.tryAcquire() ?? (await lock.acquire());
  const v = words[8]!; // plain read and write: only the lock keeps them from interleaving
  if (i % 97 === 0) await Bun.sleep(0);
  words[8] = v + 1;
  release();
}`;
    const kids = [0, 1, 2, 3].map(() => child(path, body));
    const results = await Promise.all(kids.map(async (k) => [await k.exited, await new Response(k.stderr).text()]));
    expect(results).toEqual([[0, ""], [0, ""], [0, ""], [0, ""]]);
    const words = new Int32Array(Bun.mmap(path, { shared: true }).buffer, 0, 16);
    expect(words[8]).toBe(8_000);
  }, 60_000);

  it("shows a change counted in one process to another at once", async () => {
    const path = lockPath();
    const lock = SharedLock.open(path);
    const before = lock.generation;
    const k = child(path, "const r = lock.tryAcquire(); lock.bump(); lock.bump(); r?.();");
    expect(await k.exited).toBe(0);
    expect(lock.generation).toBe(before + 2);
  });

  it("takes over from a holder whose process is gone", async () => {
    const path = lockPath();
    const k = child(path, 'lock.tryAcquire(); console.log("held");');
    expect(await k.exited).toBe(0);
    const lock = SharedLock.open(path);
    expect(lock.holder()?.pid).toBe(k.pid);
    expect(lock.tryAcquire()).toBeNull();
    const release = await lock.acquire({ timeoutMs: 2_000 });
    expect(lock.holder()?.pid).toBe(process.pid);
    release();
    expect(lock.holder()).toBeNull();
  });

  it("times out on a live holder with STORE_LOCKED naming its pid, and breaks one older than staleMs", async () => {
    const path = lockPath();
    const k = child(path, 'lock.tryAcquire(); console.log("held"); setInterval(() => {}, 1 << 30);');
    try {
      const reader = k.stdout.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain("held");
      const lock = SharedLock.open(path);
      const err = await codeOf(lock.acquire({ timeoutMs: 150 }));
      expect(err.code).toBe("STORE_LOCKED");
      expect(err.message).toContain(String(k.pid));
      expect(lock.holder()?.pid).toBe(k.pid);
      // A live holder counts as hung once it has held the lock longer than staleMs.
      await Bun.sleep(1_100);
      const release = await lock.acquire({ timeoutMs: 2_000, staleMs: 500 });
      expect(lock.holder()?.pid).toBe(process.pid);
      release();
    } finally {
      k.kill();
      await k.exited;
    }
  });

  it("release does not free a lock that was taken over meanwhile", async () => {
    const path = lockPath();
    const lock = SharedLock.open(path);
    const mine = lock.tryAcquire()!;
    // Another process judged us stale and took over (simulated: a dead pid's holder word is replaced).
    const k = child(path, "const words = new BigInt64Array(Bun.mmap(" + JSON.stringify(path) + ", { shared: true }).buffer, 0, 1); Atomics.store(words, 0, 424242n * (1n << 32n) + BigInt(Math.floor(Date.now() / 1000)));");
    expect(await k.exited).toBe(0);
    mine();
    expect(lock.holder()?.pid).toBe(424242);
  });
});
