// FileStore: the Store contract, file modes, atomic replacement, cross-instance caching,
// encryption, corruption, and real concurrent and SIGKILLed writer processes.
import { afterEach, describe, expect, it } from "bun:test";
import type { Subprocess } from "bun";
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { dataFiles } from "../../src/paths.ts";
import { FileStore } from "../../src/store/file.ts";
import { describeStoreContract, record } from "../fixtures/store-contract.ts";
import { valueFor } from "../fixtures/store-writer.ts";
import { codeOf } from "../support/broker-error.ts";
import { readLines } from "../support/child-lines.ts";

const WRITER = resolve(import.meta.dir, "../fixtures/store-writer.ts");

const dirs: string[] = [];
const children: Subprocess[] = [];

/** A fresh directory under the system temp dir, removed after the test. */
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "mcb-file-store-"));
  dirs.push(d);
  return d;
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describeStoreContract("file", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcb-file-contract-"));
  return { store: new FileStore({ dir }), reopen: () => new FileStore({ dir }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});

describeStoreContract("encrypted file", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcb-file-contract-enc-"));
  const passphrase = "contract passphrase ✓";
  return {
    store: new FileStore({ dir, passphrase }),
    reopen: () => new FileStore({ dir, passphrase }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
});

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe("FileStore on disk", () => {
  it("creates its directory 0700 and secrets.jsonl 0600", async () => {
    const dir = join(tempDir(), "nested", "data");
    const store = new FileStore({ dir });
    expect(mode(dir)).toBe(0o700);
    await store.set("gh", record("v"));
    await store.set("other", record("w"));
    await store.delete("other");
    expect(store.path).toBe(join(dir, dataFiles.secrets));
    for (const f of readdirSync(dir)) expect({ f, mode: mode(join(dir, f)) }).toEqual({ f, mode: 0o600 });
  });

  it("leaves no *.tmp and no held lock after writes: secrets.jsonl and this process's lock holder file only", async () => {
    const dir = tempDir();
    const store = new FileStore({ dir });
    for (let i = 0; i < 25; i++) await store.set(`n${i}`, record(`v${i}`));
    for (let i = 0; i < 25; i += 2) await store.delete(`n${i}`);
    expect(readdirSync(dir).sort()).toEqual([dataFiles.secrets, expect.stringMatching(new RegExp(`^secrets\\.lock\\.${process.pid}\\.[0-9a-f]{8}$`))]);
  });

  it("appends one line per set and never rewrites earlier lines", async () => {
    const dir = tempDir();
    const store = new FileStore({ dir });
    await store.set("gh", record("first-version"));
    const before = readFileSync(store.path, "utf8");
    const ino = statSync(store.path).ino;
    await store.set("gh", record("second-version-which-is-longer"));
    await store.set("other", record("x"));
    const after = readFileSync(store.path, "utf8");
    expect(after.startsWith(before)).toBe(true);
    expect(after.slice(before.length).trim().split("\n")).toHaveLength(2);
    expect(statSync(store.path).ino).toBe(ino);
    expect((await new FileStore({ dir }).get("gh"))?.value).toBe("second-version-which-is-longer");
  });

  it("rewrites the file on delete, so no earlier value of the deleted secret stays on disk", async () => {
    const dir = tempDir();
    const store = new FileStore({ dir });
    await store.set("gh", record("OLD-VALUE-1"));
    await store.set("gh", record("OLD-VALUE-2"));
    await store.set("keep", record("kept"));
    expect(await store.delete("gh")).toBe(true);
    const raw = readFileSync(store.path, "utf8");
    expect(raw).not.toContain("OLD-VALUE");
    expect(raw).toContain("kept");
    expect(await new FileStore({ dir }).get("gh")).toBeNull();
    expect((await new FileStore({ dir }).get("keep"))?.value).toBe("kept");
  });

  it("compacts by rename once the log outgrows its live records, so a reader of the old file keeps it whole", async () => {
    const dir = tempDir();
    const store = new FileStore({ dir });
    await store.set("gh", record("v0"));
    const fd = openSync(store.path, "r");
    const ino = statSync(store.path).ino;
    try {
      let i = 1;
      while (statSync(store.path).ino === ino && i < 2000) await store.set("gh", record(`v${i++}`));
      expect(statSync(store.path).ino).not.toBe(ino);
      expect(readFileSync(store.path, "utf8").trim().split("\n")).toHaveLength(2); // header + the live record
      const buf = Buffer.alloc(1 << 20);
      const n = readSync(fd, buf, 0, buf.length, 0);
      expect(buf.subarray(0, n).toString("utf8").trim().split("\n").length).toBeGreaterThan(100);
      expect((await new FileStore({ dir }).get("gh"))?.value).toBe(`v${i - 1}`);
    } finally {
      closeSync(fd);
    }
  });

  it("skips a line torn by a killed writer and keeps the lines around it", async () => {
    const dir = tempDir();
    const store = new FileStore({ dir });
    await store.set("before", record("b"));
    writeFileSync(store.path, '{"set":"torn","record":{"val', { flag: "a" });
    const other = new FileStore({ dir });
    await other.set("after", record("a"));
    for (const s of [store, other, new FileStore({ dir })]) {
      expect((await s.get("before"))?.value).toBe("b");
      expect((await s.get("after"))?.value).toBe("a");
      expect(await s.get("torn")).toBeNull();
    }
  });

  it("does not rewrite the file when deleting a missing name", async () => {
    const dir = tempDir();
    const store = new FileStore({ dir });
    await store.set("gh", record("v"));
    const ino = statSync(store.path).ino;
    const mtime = statSync(store.path).mtimeMs;
    expect(await store.delete("absent")).toBe(false);
    expect(statSync(store.path).ino).toBe(ino);
    expect(statSync(store.path).mtimeMs).toBe(mtime);
  });

  it("describes where it keeps data and whether it is encrypted", () => {
    const dir = tempDir();
    expect(new FileStore({ dir }).description).toContain(join(dir, dataFiles.secrets));
    expect(new FileStore({ dir }).description).toMatch(/not encrypted/);
    expect(new FileStore({ dir, passphrase: "k" }).description).toMatch(/AES-256-GCM/);
  });
});

describe("FileStore across instances", () => {
  it("sees another instance's overwrites (same size), additions and deletions after caching", async () => {
    const dir = tempDir();
    const a = new FileStore({ dir });
    const b = new FileStore({ dir });
    await a.set("k", record("value-1"));
    expect((await b.get("k"))?.value).toBe("value-1"); // b now caches the file
    await a.set("k", record("value-2")); // same length: only inode/mtime tell them apart
    expect((await b.get("k"))?.value).toBe("value-2");
    await a.set("k2", record("x"));
    expect((await b.list()).map((e) => e.name).sort()).toEqual(["k", "k2"]);
    await a.delete("k");
    expect(await b.get("k")).toBeNull();
    await b.set("k3", record("from-b"));
    expect((await a.get("k3"))?.value).toBe("from-b");
  });

  it("re-reads under the lock before writing, so a stale cache never drops another instance's write", async () => {
    const dir = tempDir();
    const a = new FileStore({ dir });
    const b = new FileStore({ dir });
    expect(await b.list()).toEqual([]); // b caches the empty store
    await a.set("from-a", record("1"));
    await b.set("from-b", record("2"));
    expect((await new FileStore({ dir }).list()).map((e) => e.name).sort()).toEqual(["from-a", "from-b"]);
  });

  it("keeps every write of many overlapping set() calls in one process", async () => {
    const dir = tempDir();
    const stores = [new FileStore({ dir }), new FileStore({ dir }), new FileStore({ dir })];
    await Promise.all(Array.from({ length: 60 }, (_, i) => stores[i % 3]!.set(`n${i}`, record(`v${i}`))));
    const fresh = new FileStore({ dir });
    expect((await fresh.list()).length).toBe(60);
    for (let i = 0; i < 60; i++) expect((await fresh.get(`n${i}`))?.value).toBe(`v${i}`);
  });
});

/** The file's lines, parsed: the header first, then one line per change. */
function logLines(path: string): Record<string, any>[] {
  return readFileSync(path, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

describe("FileStore encryption (MCB_STORE_KEY)", () => {
  const passphrase = "correct horse battery staple";

  it("writes neither the value, the name nor the tags in plain text", async () => {
    const dir = tempDir();
    const store = new FileStore({ dir, passphrase });
    await store.set("CANARY-NAME-github", record("CANARY-VALUE-ghp_123", { tags: { "CANARY-TAG": "CANARY-TAG-VALUE" }, provider: "CANARY-PROVIDER" }));
    await store.set("CANARY-NAME-second", record("CANARY-VALUE-2"));
    const raw = readFileSync(store.path, "utf8");
    expect(raw).not.toContain("CANARY");
    expect(raw).not.toContain(Buffer.from("CANARY-VALUE").toString("base64").slice(0, 12));
    const [header, ...records] = logLines(store.path);
    expect(header!.sealed.alg).toBe("A256GCM");
    expect(records).toHaveLength(2);
    for (const r of records) expect(Object.keys(r).sort()).toEqual(["data", "iv", "tag"]);
    expect((await new FileStore({ dir, passphrase }).get("CANARY-NAME-github"))?.value).toBe("CANARY-VALUE-ghp_123");
  });

  it("uses a fresh IV for every write", async () => {
    const dir = tempDir();
    const store = new FileStore({ dir, passphrase });
    for (let i = 0; i < 5; i++) await store.set("same", record("same value"));
    const ivs = new Set(logLines(store.path).map((l) => l.iv ?? l.sealed.check.iv));
    expect(ivs.size).toBe(6); // the header's key check + 5 records
  });

  it("refuses a wrong passphrase with STORE_KEY_INVALID and leaves the file untouched", async () => {
    const dir = tempDir();
    const good = new FileStore({ dir, passphrase });
    await good.set("gh", record("v"));
    const before = readFileSync(good.path);
    const wrong = new FileStore({ dir, passphrase: "Tr0ub4dor&3" });
    const e = await codeOf(wrong.get("gh"));
    expect(e.code).toBe("STORE_KEY_INVALID");
    expect(e.message).toContain("MCB_STORE_KEY");
    expect((await codeOf(wrong.list())).code).toBe("STORE_KEY_INVALID");
    expect((await codeOf(wrong.set("new", record("x")))).code).toBe("STORE_KEY_INVALID");
    expect((await codeOf(wrong.delete("gh"))).code).toBe("STORE_KEY_INVALID");
    expect(readFileSync(good.path).equals(before)).toBe(true);
    expect((await new FileStore({ dir, passphrase }).get("gh"))?.value).toBe("v");
  });

  it("refuses an encrypted file without a passphrase with STORE_KEY_INVALID naming MCB_STORE_KEY", async () => {
    const dir = tempDir();
    const sealed = new FileStore({ dir, passphrase });
    await sealed.set("gh", record("v"));
    const before = readFileSync(sealed.path);
    const plain = new FileStore({ dir });
    const e = await codeOf(plain.get("gh"));
    expect(e.code).toBe("STORE_KEY_INVALID");
    expect(e.message).toContain("MCB_STORE_KEY");
    expect((await codeOf(plain.list())).code).toBe("STORE_KEY_INVALID");
    expect((await codeOf(plain.set("gh", record("overwrite")))).code).toBe("STORE_KEY_INVALID");
    expect(readFileSync(sealed.path).equals(before)).toBe(true);
  });

  it("treats a tampered ciphertext as STORE_CORRUPT naming its line (GCM tag check; the header proved the key right)", async () => {
    const dir = tempDir();
    const store = new FileStore({ dir, passphrase });
    await store.set("gh", record("v"));
    const [header, rec] = logLines(store.path);
    const data = Buffer.from(rec!.data, "base64");
    data[0] = data[0]! ^ 1;
    rec!.data = data.toString("base64");
    writeFileSync(store.path, `${JSON.stringify(header)}\n${JSON.stringify(rec)}\n`);
    const e = await codeOf(new FileStore({ dir, passphrase }).get("gh"));
    expect(e.code).toBe("STORE_CORRUPT");
    expect(e.message).toContain("line 2");
    expect(e.message).toMatch(/fails authentication/);
  });

  it("reads a plain file with a passphrase and encrypts it on the next write", async () => {
    const dir = tempDir();
    await new FileStore({ dir }).set("PLAIN-OLD-NAME", record("PLAIN-OLD-VALUE"));
    expect(readFileSync(join(dir, dataFiles.secrets), "utf8")).toContain("PLAIN-OLD-VALUE");
    const sealed = new FileStore({ dir, passphrase });
    expect((await sealed.get("PLAIN-OLD-NAME"))?.value).toBe("PLAIN-OLD-VALUE");
    await sealed.set("new", record("NEW-VALUE"));
    const raw = readFileSync(sealed.path, "utf8");
    expect(raw).not.toContain("PLAIN-OLD-VALUE");
    expect(raw).not.toContain("PLAIN-OLD-NAME");
    expect(logLines(sealed.path)[0]!.sealed).toBeDefined();
    expect((await codeOf(new FileStore({ dir }).get("PLAIN-OLD-NAME"))).code).toBe("STORE_KEY_INVALID");
    const again = new FileStore({ dir, passphrase });
    expect((await again.get("PLAIN-OLD-NAME"))?.value).toBe("PLAIN-OLD-VALUE");
    expect((await again.get("new"))?.value).toBe("NEW-VALUE");
  });
});

describe("FileStore with a damaged secrets file", () => {
  const header = JSON.stringify({ format: "mcp-credentials-broker/secrets-log", version: 1 });
  const cases: [what: string, content: string][] = [
    ["text that is not JSON", "{not json"],
    ["a truncated header", header.slice(0, Math.floor(header.length / 2))],
    ["an empty file", ""],
    ["JSON null", "null\n"],
    ["a JSON array", "[]\n"],
    ["an unknown version", `${JSON.stringify({ format: "mcp-credentials-broker/secrets-log", version: 2 })}\n`],
    ["the previous whole-file JSON format", `${JSON.stringify({ version: 1, secrets: {} })}\n`],
    ["a record without a value", `${header}\n${JSON.stringify({ set: "gh", record: { createdAt: 1, updatedAt: 1 } })}\n`],
    ["a sealed header with an unknown algorithm", `${JSON.stringify({ format: "mcp-credentials-broker/secrets-log", version: 1, sealed: { alg: "none", kdf: "scrypt", salt: "", check: { iv: "", tag: "", data: "" } } })}\n`],
  ];
  for (const [what, content] of cases) {
    it(`reports ${what} as STORE_CORRUPT, says what to do, and never overwrites it`, async () => {
      const dir = tempDir();
      const path = join(dir, dataFiles.secrets);
      writeFileSync(path, content, { mode: 0o600 });
      const store = new FileStore({ dir });
      const e = await codeOf(store.get("gh"));
      expect(e.code).toBe("STORE_CORRUPT");
      expect(e.message).toContain(path);
      expect(e.message).toMatch(/move it aside/i);
      expect((await codeOf(store.list())).code).toBe("STORE_CORRUPT");
      expect((await codeOf(store.set("gh", record("new")))).code).toBe("STORE_CORRUPT");
      expect((await codeOf(store.delete("gh"))).code).toBe("STORE_CORRUPT");
      expect(readFileSync(path, "utf8")).toBe(content);
    });
  }
});

function spawnWriter(args: string[], env: Record<string, string> = {}): Subprocess<"ignore", "pipe", "pipe"> {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("MCB_")) childEnv[k] = v;
  const p = Bun.spawn([process.execPath, WRITER, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...childEnv, ...env } });
  children.push(p);
  return p;
}

describe("FileStore across processes", () => {
  it("keeps all 400 names when 4 processes each write 100 at once", async () => {
    const dir = tempDir();
    const writers = ["w0", "w1", "w2", "w3"].map((prefix) => ({ prefix, p: spawnWriter(["write", dir, prefix, "100"]) }));
    const results = await Promise.all(
      writers.map(async ({ prefix, p }) => {
        const [lines, stderr, code] = await Promise.all([readLines(p.stdout), new Response(p.stderr).text(), p.exited]);
        return { prefix, lines, stderr, code };
      }),
    );
    for (const r of results) {
      expect({ prefix: r.prefix, code: r.code, stderr: r.stderr }).toEqual({ prefix: r.prefix, code: 0, stderr: "" });
      expect(r.lines).toEqual(Array.from({ length: 100 }, (_, i) => `${r.prefix}-${i}`));
    }
    const fresh = new FileStore({ dir });
    const names = (await fresh.list()).map((e) => e.name);
    expect(names.length).toBe(400);
    for (const r of results) for (const n of r.lines) expect((await fresh.get(n))?.value).toBe(valueFor(n));
    expect(readdirSync(dir).sort()).toEqual([dataFiles.secrets]); // the writers' lock holder files went with them
  }, 120_000);

  it("sees another process's write, and a change made outside the broker, at the next read (one stat)", async () => {
    const dir = tempDir();
    const store = new FileStore({ dir });
    await store.set("mine", record("1"));
    expect(await store.get("x-0")).toBeNull(); // cached now
    const p = spawnWriter(["write", dir, "x", "1"]);
    expect(await p.exited).toBe(0);
    expect((await store.get("x-0"))?.value).toBe(valueFor("x-0"));
    // Appended by hand (no broker, no lock): seen at once.
    writeFileSync(store.path, `${JSON.stringify({ set: "by-hand", record: record("h") })}\n`, { flag: "a" });
    expect((await store.get("by-hand"))?.value).toBe("h");
  });

  it("sees a file rewritten in place with the same inode and size (a restored copy): the mtime differs", async () => {
    const dir = tempDir();
    const store = new FileStore({ dir });
    await store.set("gh", record("value-1"));
    const before = readFileSync(store.path, "utf8");
    await store.set("gh", record("value-2"));
    expect((await store.get("gh"))?.value).toBe("value-2"); // cached: inode, size and mtime
    const ino = statSync(store.path).ino;
    const size = statSync(store.path).size;
    // The same bytes count, value-1 back in place of value-2 (the same inode: written, not renamed).
    const restored = before + before.split("\n")[1]!.replace("value-1", "value-3") + "\n";
    expect(Buffer.byteLength(restored)).toBe(size);
    await Bun.sleep(5); // past the file system's timestamp granularity
    writeFileSync(store.path, restored);
    expect({ ino: statSync(store.path).ino, size: statSync(store.path).size }).toEqual({ ino, size });
    expect((await store.get("gh"))?.value).toBe("value-3");
  });

  it("keeps all names when 3 processes write to an encrypted store at once", async () => {
    const dir = tempDir();
    const env = { MCB_STORE_KEY: "shared passphrase" };
    const writers = ["e0", "e1", "e2"].map((prefix) => spawnWriter(["write", dir, prefix, "30"], env));
    const codes = await Promise.all(writers.map(async (p) => [await p.exited, await new Response(p.stderr).text()]));
    expect(codes).toEqual([[0, ""], [0, ""], [0, ""]]);
    const fresh = new FileStore({ dir, passphrase: env.MCB_STORE_KEY });
    expect((await fresh.list()).length).toBe(90);
    expect((await fresh.get("e2-29"))?.value).toBe(valueFor("e2-29"));
    expect(readFileSync(fresh.path, "utf8")).not.toContain("value-of-");
  }, 120_000);

  it("keeps every acknowledged write after SIGKILL in the middle of 200 writes", async () => {
    const dir = tempDir();
    const total = 200;
    const killAfter = 60;
    const p = spawnWriter(["write", dir, "k", String(total)], { MCB_TEST_WRITE_PACE_MS: "2" });
    const acknowledged = await readLines(p.stdout, (line) => {
      if (line === `k-${killAfter - 1}`) p.kill("SIGKILL");
    });
    await p.exited;
    expect(p.signalCode).toBe("SIGKILL");
    expect(acknowledged.length).toBeGreaterThanOrEqual(killAfter);
    expect(acknowledged.length).toBeLessThan(total);

    const fresh = new FileStore({ dir });
    const stored = (await fresh.list()).map((e) => e.name);
    for (const n of acknowledged) expect((await fresh.get(n))?.value).toBe(valueFor(n));
    // Writes are sequential, so what survived is k-0 … k-(m-1): the acknowledged ones,
    // plus at most the one in flight whose rename happened just before the kill.
    const m = stored.length;
    expect(m === acknowledged.length || m === acknowledged.length + 1).toBe(true);
    expect(stored.sort()).toEqual(Array.from({ length: m }, (_, i) => `k-${i}`).sort());

    // Whatever the killed writer held (the lock, a temp file) does not block the next writer.
    await fresh.set("after-kill", record("ok"));
    expect((await new FileStore({ dir }).get("after-kill"))?.value).toBe("ok");
    expect(existsSync(join(dir, dataFiles.secretsLock))).toBe(false);
  }, 120_000);

  it("recovers the lock of a writer SIGKILLed while holding it", async () => {
    const dir = tempDir();
    const store = new FileStore({ dir });
    await store.set("before", record("1"));
    const lock = join(dir, dataFiles.secretsLock);
    const p = spawnWriter(["hold-lock", dir]);
    let killed = false;
    const lines = await readLines(p.stdout, (line) => {
      if (line === "locked") {
        expect(readFileSync(lock, "utf8")).toStartWith(`${p.pid} `);
        p.kill("SIGKILL");
        killed = true;
      }
    });
    await p.exited;
    expect(lines).toEqual(["locked"]);
    expect(killed).toBe(true);
    // The dead writer still holds it.
    expect(readFileSync(lock, "utf8")).toStartWith(`${p.pid} `);
    // The default lock timeout (10 s) is far below the age at which a live lock counts
    // as stale (30 s): this write succeeds only because the dead holder's lock is broken.
    await store.set("after", record("2"));
    expect((await new FileStore({ dir }).list()).map((e) => e.name).sort()).toEqual(["after", "before"]);
    expect(existsSync(lock)).toBe(false);
  }, 60_000);
});

describe("FileStore orphan temp files", () => {
  it("removes a dead writer's leftover temp file when opened, keeping a live one's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mcb-orphan-"));
    try {
      // A pid above the kernel's pid_max cannot be alive.
      const dead = join(dir, "secrets.jsonl.99999999.deadbeef.tmp");
      const live = join(dir, `secrets.jsonl.${process.ppid}.cafebabe.tmp`);
      writeFileSync(dead, "{}", { mode: 0o600 });
      writeFileSync(live, "{}", { mode: 0o600 });
      new FileStore({ dir });
      expect(existsSync(dead)).toBe(false);
      expect(existsSync(live)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
