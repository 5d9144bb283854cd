// migrateStore: every record (internal ones included) moves, is verified through a fresh view
// of the target, and only then leaves the source; conflicts stop it before any write.
import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { FileStore } from "../../src/store/file.ts";
import { KeychainStore } from "../../src/store/keychain.ts";
import { MemoryStore } from "../../src/store/memory.ts";
import { migrateStore } from "../../src/store/migrate.ts";
import { record } from "../fixtures/store-contract.ts";
import { codeOf } from "../support/broker-error.ts";
import { MemoryKeychainItems } from "../support/memory-keychain.ts";
import { tempDirs } from "../support/temp-dirs.ts";

const tempDir = tempDirs("mcb-migrate-");

const RECORDS = {
  "github-token": record("gho_secret", { tags: { env: "prod" }, provider: "github", expiresAt: 1_800_000_000_000 }),
  "multi line": record("a\nb\r\nc 密码"),
  "mcb-internal:jwt-es256-key": record('{"kty":"EC","d":"private"}'),
};

async function fill(s: { set: FileStore["set"] }) {
  for (const [n, r] of Object.entries(RECORDS)) await s.set(n, r);
}

describe("migrateStore", () => {
  it("moves every record, the signing key included, from file to keychain and back, losing nothing", async () => {
    const dir = tempDir();
    const items = new MemoryKeychainItems(100);
    const file = new FileStore({ dir });
    await fill(file);
    const keychain = () => new KeychainStore({ items, dir });
    const there = await migrateStore(file, keychain(), async () => keychain());
    expect(there).toEqual({ secrets: ["github-token", "multi line"], internal: 1, unchanged: [], removedFromSource: true });
    expect(await new FileStore({ dir }).list()).toEqual([]);
    for (const [n, r] of Object.entries(RECORDS)) expect(await keychain().get(n)).toEqual(r);

    const back = await migrateStore(keychain(), new FileStore({ dir }), async () => new FileStore({ dir }));
    expect(back.secrets).toEqual(["github-token", "multi line"]);
    expect(await keychain().list()).toEqual([]);
    expect(items.items.size).toBe(0);
    for (const [n, r] of Object.entries(RECORDS)) expect(await new FileStore({ dir }).get(n)).toEqual(r);
  });

  it("copies only with keep", async () => {
    const from = new MemoryStore();
    const to = new MemoryStore();
    await fill(from);
    const r = await migrateStore(from, to, async () => to, { keep: true });
    expect(r.removedFromSource).toBe(false);
    expect((await from.list()).length).toBe(3);
    expect((await to.list()).length).toBe(3);
  });

  it("stops before any write when the target holds a different record, naming it, and overwrites on request", async () => {
    const from = new MemoryStore();
    const to = new MemoryStore();
    await fill(from);
    await to.set("github-token", record("someone else's"));
    await to.set("mcb-internal:jwt-es256-key", record("another key"));
    const e = await codeOf(migrateStore(from, to, async () => to));
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.message).toContain("'github-token'");
    expect(e.message).toContain("'mcb-internal:jwt-es256-key'");
    expect(e.message).toContain("--overwrite");
    expect(await to.get("multi line")).toBeNull();
    expect((await from.list()).length).toBe(3);
    await migrateStore(from, to, async () => to, { overwrite: true });
    expect(await to.get("github-token")).toEqual(RECORDS["github-token"]);
  });

  it("treats identical records in the target as already migrated", async () => {
    const from = new MemoryStore();
    const to = new MemoryStore();
    await fill(from);
    await to.set("github-token", RECORDS["github-token"]);
    expect((await migrateStore(from, to, async () => to)).unchanged).toEqual(["github-token"]);
  });

  it("deletes nothing from the source when a record does not read back from the target", async () => {
    const from = new MemoryStore();
    await fill(from);
    const to = new MemoryStore();
    const e = await codeOf(migrateStore(from, to, async () => new MemoryStore()));
    expect(e.code).toBe("STORE_CORRUPT");
    expect((await from.list()).length).toBe(3);
  });
});

describe("migrateStore out of the file store", () => {
  it("leaves no moved value in the file store's log history", async () => {
    const dir = tempDir();
    const file = new FileStore({ dir });
    await fill(file);
    const to = new MemoryStore();
    await migrateStore(file, to, async () => to);
    const log = await Bun.file(join(dir, "secrets.jsonl")).text();
    for (const r of Object.values(RECORDS)) expect(log).not.toContain(JSON.stringify(r.value).slice(1, -1));
  });
});
