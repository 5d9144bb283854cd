// Broker-owned store items: read without a lock, created once under one.
import { describe, expect, it } from "bun:test";
import { loadOrCreateInternalItem } from "../../src/core/internal-item.ts";
import { BrokerError } from "../../src/errors.ts";
import { MemoryStore } from "../../src/store/memory.ts";

const clock = { now: () => 1_700_000_000_000, sleep: async () => {} };

describe("loadOrCreateInternalItem", () => {
  it("reads an existing item without taking a lock (a read-only data dir cannot make one)", async () => {
    const store = new MemoryStore();
    await store.set("mcb-internal:audit-hmac-key", { value: "k1", createdAt: 1, updatedAt: 1 });
    const withLock = async () => {
      throw new BrokerError("STORE_READ_ONLY", "Cannot create lock file: EROFS");
    };
    expect(await loadOrCreateInternalItem({ store, clock, withLock }, "audit-hmac-key", async () => "new")).toBe("k1");
  });

  it("creates a missing item once, under the lock, and returns what another process stored meanwhile", async () => {
    const store = new MemoryStore();
    const locks: string[] = [];
    const withLock = async <T>(name: string, fn: () => Promise<T>) => (locks.push(name), fn());
    expect(await loadOrCreateInternalItem({ store, clock, withLock }, "k", async () => "created")).toBe("created");
    expect(locks).toEqual(["k"]);
    expect((await store.get("mcb-internal:k"))?.value).toBe("created");
    // Found at once on the next call: no lock.
    expect(await loadOrCreateInternalItem({ store, clock, withLock }, "k", async () => "other")).toBe("created");
    expect(locks).toEqual(["k"]);
    // Another process stored it between our lock-free read and our lock: that value wins.
    const racing = new MemoryStore();
    const raceLock = async <T>(_: string, fn: () => Promise<T>) => {
      await racing.set("mcb-internal:r", { value: "theirs", createdAt: 1, updatedAt: 1 });
      return fn();
    };
    expect(await loadOrCreateInternalItem({ store: racing, clock, withLock: raceLock }, "r", async () => "ours")).toBe("theirs");
  });
});
