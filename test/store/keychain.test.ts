// KeychainStore over an in-memory keychain: the Store contract (with values split over many
// small items), the read cache and its cross-process invalidation, the metadata index (never a
// value), and what a failure in the middle of a write leaves behind.
import { describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dataFiles } from "../../src/paths.ts";
import { KeychainStore } from "../../src/store/keychain.ts";
import { describeStoreContract, record } from "../fixtures/store-contract.ts";
import { codeOf } from "../support/broker-error.ts";
import { helperRuns, MemoryKeychainItems } from "../support/memory-keychain.ts";
import { tempDirs } from "../support/temp-dirs.ts";

const tempDir = tempDirs("mcb-keychain-");

describeStoreContract("keychain store (in-memory items of 100 characters)", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcb-keychain-contract-"));
  const items = new MemoryKeychainItems(100);
  return { store: new KeychainStore({ items, dir }), reopen: () => new KeychainStore({ items, dir }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});

describe("KeychainStore read cache", () => {
  it("serves a hot get without touching the keychain", async () => {
    const items = new MemoryKeychainItems();
    const store = new KeychainStore({ items, dir: tempDir() });
    await store.set("gh", record("v"));
    const runs = helperRuns(items);
    for (let i = 0; i < 100; i++) expect((await store.get("gh"))?.value).toBe("v");
    expect(helperRuns(items)).toBe(runs);
  });

  it("remembers a missing name too", async () => {
    const items = new MemoryKeychainItems();
    const store = new KeychainStore({ items, dir: tempDir() });
    expect(await store.get("nope")).toBeNull();
    expect(await store.get("nope")).toBeNull();
    expect(items.calls.read).toBe(1);
  });

  it("drops its cache when another instance (another process) writes, and only then", async () => {
    const items = new MemoryKeychainItems();
    const dir = tempDir();
    const a = new KeychainStore({ items, dir });
    const b = new KeychainStore({ items, dir });
    await b.set("gh", record("v1"));
    expect((await a.get("gh"))?.value).toBe("v1");
    await b.set("gh", record("v2"));
    expect((await a.get("gh"))?.value).toBe("v2");
    await b.delete("gh");
    expect(await a.get("gh")).toBeNull();
    const reads = items.calls.read;
    expect(await a.get("gh")).toBeNull();
    expect(items.calls.read).toBe(reads);
  });

  it("keeps other cached names across its own writes", async () => {
    const items = new MemoryKeychainItems();
    const store = new KeychainStore({ items, dir: tempDir() });
    await store.set("a", record("1"));
    await store.get("a");
    await store.set("b", record("2"));
    const reads = items.calls.read;
    expect((await store.get("a"))?.value).toBe("1");
    expect((await store.get("b"))?.value).toBe("2");
    expect(items.calls.read).toBe(reads);
  });

  it("does not cache a value read while another instance was writing", async () => {
    const items = new MemoryKeychainItems();
    const dir = tempDir();
    const a = new KeychainStore({ items, dir });
    const b = new KeychainStore({ items, dir });
    await b.set("gh", record("old"));
    // a's read starts before b's write and finishes after it.
    const realRead = items.read.bind(items);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    items.read = async (s, acc) => {
      const v = await realRead(s, acc);
      await gate;
      return v;
    };
    const pending = a.get("gh");
    await Bun.sleep(5);
    items.read = realRead;
    await b.set("gh", record("new"));
    // a notices b's write through another read before its slow read returns.
    expect(await a.get("other")).toBeNull();
    release();
    expect((await pending)?.value).toBe("old");
    expect((await a.get("gh"))?.value).toBe("new");
  });
});

describe("KeychainStore index", () => {
  it("lists from the index without reading any keychain item", async () => {
    const items = new MemoryKeychainItems();
    const dir = tempDir();
    await new KeychainStore({ items, dir }).set("gh", record("v", { tags: { env: "prod" }, provider: "github", expiresAt: 9 }));
    const reads = items.calls.read;
    expect(await new KeychainStore({ items, dir }).list()).toEqual([
      { name: "gh", tags: { env: "prod" }, provider: "github", expiresAt: 9, createdAt: 1_700_000_000_000, updatedAt: 1_700_000_000_500 },
    ]);
    expect(items.calls.read).toBe(reads);
  });

  it("keeps no value in the data dir: the index holds names and metadata only, 0600 in a 0700 dir", async () => {
    const canary = `CANARY-${randomUUID()}`;
    const dir = tempDir();
    const store = new KeychainStore({ items: new MemoryKeychainItems(100), dir });
    await store.set("small", record(canary));
    await store.set("split", record(`${canary}${"x".repeat(1000)}`));
    // Besides the index, only this process's lock holder file (it holds a pid).
    const files = readdirSync(dir);
    expect(files.filter((f) => !f.startsWith(`${dataFiles.keychainLock}.`))).toEqual([dataFiles.keychainIndex]);
    for (const f of files) expect(readFileSync(join(dir, f), "utf8")).not.toContain(canary);
    const raw = readFileSync(join(dir, dataFiles.keychainIndex), "utf8");
    for (const form of [canary, Buffer.from(canary).toString("base64"), Buffer.from(canary).toString("hex")]) expect(raw).not.toContain(form);
    expect(raw).not.toContain("mcb1");
    expect(statSync(join(dir, dataFiles.keychainIndex)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(raw)).toMatchObject({ version: 1, service: "mcp-credentials-broker", generation: 2 });
  });

  it("keeps an OAuth record's refresh token in the keychain item only, never in the index", async () => {
    const refresh = `CANARY-${randomUUID()}`;
    const dir = tempDir();
    const items = new MemoryKeychainItems(100);
    const r = record("access-token", {
      provider: "github",
      expiresAt: 9,
      oauth: { provider: "github", clientId: "cid", authMethod: "none", tokenEndpoint: "https://github.com/login/oauth/access_token", tokenType: "bearer", generation: 1, refreshToken: refresh },
    });
    await new KeychainStore({ items, dir }).set("gh", r);
    expect(await new KeychainStore({ items, dir }).get("gh")).toEqual(r);
    expect(readFileSync(join(dir, dataFiles.keychainIndex), "utf8")).not.toContain(refresh);
    expect(JSON.stringify(await new KeychainStore({ items, dir }).list())).not.toContain(refresh);
  });

  it("refuses an index written for another keychain service, naming both", async () => {
    const dir = tempDir();
    await new KeychainStore({ items: new MemoryKeychainItems(), dir, service: "work" }).set("gh", record("v"));
    const e = await codeOf(new KeychainStore({ items: new MemoryKeychainItems(), dir, service: "home" }).list());
    expect(e.message).toContain("'work'");
    expect(e.message).toContain("MCB_KEYCHAIN_SERVICE=work");
  });

  it("reports a damaged index as STORE_CORRUPT", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, dataFiles.keychainIndex), "{not json");
    expect((await codeOf(new KeychainStore({ items: new MemoryKeychainItems(), dir }).list())).code).toBe("STORE_CORRUPT");
  });
});

describe("KeychainStore items", () => {
  it("removes the parts of a replaced or deleted split value", async () => {
    const items = new MemoryKeychainItems(100);
    const store = new KeychainStore({ items, dir: tempDir() });
    await store.set("gh", record("a".repeat(1000)));
    const first = items.items.size;
    expect(first).toBeGreaterThan(5);
    await store.set("gh", record("b".repeat(1000)));
    expect(items.items.size).toBe(first);
    await store.delete("gh");
    expect(items.items.size).toBe(0);
  });

  it("keeps the previous value readable when the keychain fails in the middle of a write", async () => {
    const items = new MemoryKeychainItems(100);
    const dir = tempDir();
    const store = new KeychainStore({ items, dir });
    await store.set("gh", record("old ".repeat(100)));
    items.failWritesTo = "mcp-credentials-broker"; // the head item: parts were written already
    await expect(store.set("gh", record("new ".repeat(100)))).rejects.toThrow("simulated keychain failure");
    items.failWritesTo = null;
    expect((await new KeychainStore({ items, dir }).get("gh"))?.value).toBe("old ".repeat(100));
  });

  it("reports a head item it did not write, or a missing part, as STORE_CORRUPT naming the secret", async () => {
    const items = new MemoryKeychainItems(100);
    const dir = tempDir();
    items.items.set(MemoryKeychainItems.key("mcp-credentials-broker", "foreign"), "hunter2");
    expect((await codeOf(new KeychainStore({ items, dir }).get("foreign"))).message).toContain("'foreign'");
    await new KeychainStore({ items, dir }).set("split", record("z".repeat(600)));
    const part = [...items.items.keys()].find((k) => k.includes("/part/"))!;
    items.items.delete(part);
    expect((await codeOf(new KeychainStore({ items, dir }).get("split"))).code).toBe("STORE_CORRUPT");
  });

  it("serialises concurrent writers in one process so the index loses no name", async () => {
    const items = new MemoryKeychainItems();
    const dir = tempDir();
    await Promise.all(Array.from({ length: 30 }, (_, i) => new KeychainStore({ items, dir }).set(`n${i}`, record(String(i)))));
    expect((await new KeychainStore({ items, dir }).list()).length).toBe(30);
  });
});

describe("KeychainStore start-up", () => {
  it("removes an index temp file a dead writer left, keeping a live one's", () => {
    const dir = tempDir();
    // A pid above the kernel's pid_max cannot be alive.
    const dead = join(dir, `${dataFiles.keychainIndex}.99999999.deadbeef.tmp`);
    const live = join(dir, `${dataFiles.keychainIndex}.${process.ppid}.cafebabe.tmp`);
    writeFileSync(dead, "{}", { mode: 0o600 });
    writeFileSync(live, "{}", { mode: 0o600 });
    new KeychainStore({ items: new MemoryKeychainItems(), dir });
    expect(readdirSync(dir).sort()).toEqual([live.slice(dir.length + 1)]);
  });
});
