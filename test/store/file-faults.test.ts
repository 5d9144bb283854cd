// FileStore under real faults: writers SIGKILLed inside a write(2), a disk that fills up
// (tmpfs), torn tails, damaged lines, glued lines an older version wrote. The rule pinned
// here: nothing acknowledged is ever lost, every refusal is a BrokerError that says what to
// do, and no write discards bytes it could not read.
import { afterEach, describe, expect, it } from "bun:test";
import type { Subprocess } from "bun";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { verifyAuditLog } from "../../src/files/audit-reader.ts";
import { FileAuditLog } from "../../src/files/audit-log.ts";
import { FileRevocationList } from "../../src/files/revocation-list.ts";
import { dataFiles } from "../../src/paths.ts";
import { FileStore } from "../../src/store/file.ts";
import { record } from "../fixtures/store-contract.ts";
import { codeOf } from "../support/broker-error.ts";
import { fillDisk, mountTmpfs, skipMounts, unmountAll } from "./fault-mounts.ts";
import { faultValue } from "./fault-writer.ts";
import { readLines } from "../support/child-lines.ts";

const WRITER = resolve(import.meta.dir, "fault-writer.ts");
const HEADER = JSON.stringify({ format: "mcp-credentials-broker/secrets-log", version: 1 });

const dirs: string[] = [];
const children: Subprocess[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "mcb-file-faults-"));
  dirs.push(d);
  return d;
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  unmountAll();
});

function spawnWriter(args: string[], env: Record<string, string> = {}): Subprocess<"pipe", "pipe", "pipe"> {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("MCB_")) childEnv[k] = v;
  const p = Bun.spawn([process.execPath, WRITER, ...args], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: { ...childEnv, ...env } });
  children.push(p);
  return p;
}

/** The log's lines; fails the test unless the file ends on a newline and every line is JSON (no torn or glued line left). */
function wholeLines(path: string): unknown[] {
  const raw = readFileSync(path, "utf8");
  expect(raw.endsWith("\n")).toBe(true);
  return raw.slice(0, -1).split("\n").map((l) => JSON.parse(l));
}

/** The `secrets.jsonl.torn-*` copies in `dir`, concatenated. */
function keptAside(dir: string): string {
  return readdirSync(dir)
    .filter((n) => n.startsWith(`${dataFiles.secrets}.torn-`))
    .sort()
    .map((n) => readFileSync(join(dir, n), "utf8"))
    .join("");
}

const CONFIGS: { what: string; opts: { passphrase?: string } }[] = [
  { what: "plain", opts: {} },
  { what: "encrypted (MCB_STORE_KEY)", opts: { passphrase: "fault passphrase" } },
];

describe("FileStore: the next append starts on a fresh line whatever a cache believes", () => {
  for (const { what, opts } of CONFIGS) {
    it(`${what}: a store that read the file under a second ago appends after another writer's torn tail, and the write survives`, async () => {
      const dir = tempDir();
      const a = new FileStore({ dir, ...opts });
      await a.set("before", record("before-value"));
      expect((await a.get("before"))?.value).toBe("before-value"); // a's view is fresh now
      // What a writer SIGKILLed inside its write(2) leaves: part of a line, no newline.
      const torn = opts.passphrase ? '{"iv":"AAAAAAAAAAAAAAAA","data":"c2VjcmV0LWhhbGYtd3' : '{"set":"torn","record":{"value":"half-writ';
      appendFileSync(a.path, torn);
      await a.set("after", record("after-value"));

      const fresh = new FileStore({ dir, ...opts });
      expect((await fresh.get("after"))?.value).toBe("after-value");
      expect((await fresh.get("before"))?.value).toBe("before-value");
      expect(await fresh.get("torn")).toBeNull();
      expect((await a.get("after"))?.value).toBe("after-value");
      expect(wholeLines(a.path)).toHaveLength(3); // header, before, after: the torn bytes are gone from the log…
      expect(keptAside(dir)).toBe(`${torn}\n`); // …and kept aside, not discarded
    });
  }

  it("after a writer SIGKILLed inside a 48 MiB write(2), a store that looked under a second ago still lands its next write", async () => {
    let torn = 0;
    for (let attempt = 0; attempt < 8 && torn === 0; attempt++) {
      const dir = tempDir();
      const path = join(dir, dataFiles.secrets);
      const p = spawnWriter(["big", dir, String(48 * 1024 * 1024)]);
      const acknowledged: string[] = [];
      const ready = Promise.withResolvers<void>();
      const lines = readLines(p.stdout, (l) => (l === "ready" ? ready.resolve() : acknowledged.push(l)));
      await ready.promise;
      const sizeBefore = statSync(path).size;
      const b = new FileStore({ dir });
      expect((await b.get("small"))?.value).toBe(faultValue("small", 100)); // b has just stat'ed the file
      p.stdin.write("go\n");
      p.stdin.flush();
      // Kill as soon as the big line starts to land: inside its write(2).
      const deadline = Date.now() + 10_000;
      while (statSync(path).size === sizeBefore && Date.now() < deadline) {
        /* spin: a sleep would miss the write */
      }
      p.kill("SIGKILL");
      await p.exited;
      await lines;
      expect(p.signalCode).toBe("SIGKILL");
      const raw = readFileSync(path);
      if (raw.at(-1) === 0x0a) continue; // the kill missed the write: try again
      torn++;
      expect(acknowledged).toEqual(["small"]);
      await b.set("after", record("after-value"));
      const fresh = new FileStore({ dir });
      expect((await fresh.get("after"))?.value).toBe("after-value");
      expect((await fresh.get("small"))?.value).toBe(faultValue("small", 100));
      expect(await fresh.get("big")).toBeNull();
      expect(wholeLines(path)).toHaveLength(3);
      expect(keptAside(dir).length).toBe(raw.length - sizeBefore + 1);
    }
    expect(torn).toBe(1); // at least one kill landed inside the write
  }, 120_000);

  it("keeps every acknowledged write across 40 SIGKILLs at random moments, with a long-lived store writing between them", async () => {
    const dir = tempDir();
    const survivor = new FileStore({ dir });
    const acknowledged = new Map<string, string>();
    let tornTails = 0;
    for (let round = 0; round < 40; round++) {
      const p = spawnWriter(["loop", dir, `r${round}`]);
      const lines = readLines(p.stdout, (name) => acknowledged.set(name, name));
      await Bun.sleep(40 + Math.random() * 160);
      p.kill("SIGKILL");
      await p.exited;
      await lines;
      expect(p.signalCode).toBe("SIGKILL");
      if (existsSync(survivor.path) && readFileSync(survivor.path).at(-1) !== 0x0a) tornTails++;
      // The long-lived store (its view possibly a moment old) writes right after the kill.
      const name = `survivor-${round}`;
      await survivor.set(name, record(faultValue(name, 100)));
      acknowledged.set(name, name);
    }
    const fresh = new FileStore({ dir });
    const stored = new Map((await fresh.list()).map((e) => [e.name, e]));
    for (const name of acknowledged.keys()) {
      const r = await fresh.get(name);
      expect({ name, found: r !== null }).toEqual({ name, found: true });
      expect(r!.value.startsWith(`value-of-${name}:`)).toBe(true);
      expect(r!.value.length).toBe(Number(r!.value.split(":")[1]));
    }
    expect(stored.size).toBeGreaterThanOrEqual(acknowledged.size);
    wholeLines(fresh.path);
    process.stderr.write(`store faults: 40 SIGKILLs, ${acknowledged.size} acknowledged writes kept, ${tornTails} torn tails\n`);
  }, 180_000);
});

describe.skipIf(skipMounts)("FileStore on a full disk (tmpfs)", () => {
  for (const { what, opts } of CONFIGS) {
    it(`${what}: a short write is cut back and refused as 'disk is full', and the next write after space is freed lands whole`, async () => {
      const dir = join(mountTmpfs("256k"), "home");
      const a = new FileStore({ dir, ...opts });
      await a.set("a1", record("v1"));
      expect((await a.get("a1"))?.value).toBe("v1");
      const sizeBefore = statSync(a.path).size;
      const filler = fillDisk(join(dir, ".."));
      // More than the free space (a few bytes of the last page at most): write(2) stores part of it, then fails.
      const e = await codeOf(a.set("big", record("x".repeat(64 * 1024))));
      expect(e.code).toBe("IO_ERROR");
      expect(e.message).toContain(a.path);
      expect(e.message).toMatch(/ENOSPC \(the disk is full: free some space, then retry\)/);
      expect(statSync(a.path).size).toBe(sizeBefore); // nothing of the refused line is left
      expect(await a.get("big")).toBeNull();
      unlinkSync(filler);
      await a.set("after", record("after-value"));
      const fresh = new FileStore({ dir, ...opts });
      expect((await fresh.get("a1"))?.value).toBe("v1");
      expect((await fresh.get("after"))?.value).toBe("after-value");
      expect(await fresh.get("big")).toBeNull();
      wholeLines(a.path);
    });
  }

  it("a delete on a full disk (the file is rewritten) is refused and changes nothing", async () => {
    const dir = join(mountTmpfs("256k"), "home");
    const a = new FileStore({ dir });
    await a.set("keep", record("x".repeat(40_000)));
    await a.set("gone", record("y".repeat(40_000)));
    const before = readFileSync(a.path);
    const filler = fillDisk(join(dir, ".."));
    const e = await codeOf(a.delete("gone"));
    expect(e.code).toBe("IO_ERROR");
    expect(e.message).toMatch(/disk is full/);
    expect(readFileSync(a.path).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    unlinkSync(filler);
    expect(await a.delete("gone")).toBe(true);
    expect((await new FileStore({ dir }).list()).map((x) => x.name)).toEqual(["keep"]);
  });

  it("a store opened on a disk that is already full refuses with an error, never a signal (SIGBUS)", async () => {
    const root = mountTmpfs("256k");
    const dir = join(root, "home");
    mkdirSync(dir, { mode: 0o700 });
    fillDisk(root);
    const p = spawnWriter(["set", dir, "x"]);
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect({ code, signal: p.signalCode, out }).toEqual({ code: 1, signal: null, out: "" });
    expect(err).toMatch(/^refused IO_ERROR: .*ENOSPC \(the disk is full: free some space, then retry\)\.\n$/);
  });
});

describe.skipIf(skipMounts)("the audit log and the revocation list on a full disk (tmpfs)", () => {
  const line = (i: number) => ({ event: "get" as const, name: `name-${i}`, purpose: "p".repeat(200), client: "faults", outcome: "ok" as const });

  it("a chained append cut short is cut back and refused (fail closed), and the log verifies; a new writer continues it once space is freed", async () => {
    const dir = join(mountTmpfs("256k"), "home");
    mkdirSync(dir, { mode: 0o700 });
    const path = join(dir, dataFiles.audit);
    const first = new FileAuditLog({ path, now: Date.now });
    for (let i = 0; i < 3; i++) await first.record(line(i));
    const sizeBefore = statSync(path).size;
    const filler = fillDisk(join(dir, ".."));
    // More than the rest of the file's last page: write(2) stores part of it, then fails.
    const burst = Array.from({ length: 40 }, (_, i) => first.record(line(100 + i)));
    const refusals = await Promise.all(burst.map((p) => codeOf(p)));
    for (const e of refusals) {
      expect(e.code).toBe("IO_ERROR");
      expect(e.message).toContain(`Cannot write the audit log ${path}: ENOSPC (the disk is full: free some space, then retry)`);
    }
    expect(statSync(path).size).toBe(sizeBefore); // nothing of the refused lines stays
    expect((await codeOf(first.record(line(200)))).code).toBe("IO_ERROR"); // fail closed
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, lines: 3 });
    unlinkSync(filler);
    const next = new FileAuditLog({ path, now: Date.now });
    await next.record(line(300));
    await next.close();
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, lines: 4 });
  });

  it("a line someone waits for, on a disk already full, is refused: its write-ahead file holds no torn line", async () => {
    const root = mountTmpfs("256k");
    const dir = join(root, "home");
    mkdirSync(dir, { mode: 0o700 });
    fillDisk(root);
    const log = new FileAuditLog({ path: join(dir, dataFiles.audit), now: Date.now });
    const e = await codeOf(log.record(line(0), { urgent: true }));
    expect(e.message).toMatch(/^Cannot write the audit log .*: ENOSPC \(the disk is full: free some space, then retry\)\. A value is handed out, and a change made, only once its audit line is written \(fail closed\)/);
    for (const n of readdirSync(dir).filter((f) => f.includes(".pending."))) expect(readFileSync(join(dir, n), "utf8")).toBe("");
  });

  it("a revocation cut short is cut back and refused saying nothing was revoked; earlier ones stay, and the next lands once space is freed", async () => {
    const root = mountTmpfs("256k");
    const dir = join(root, "home");
    mkdirSync(dir, { mode: 0o700 });
    const path = join(dir, dataFiles.revoked);
    const list = new FileRevocationList(path, Date.now);
    const far = Date.now() + 3_600_000;
    await list.add("tok_before", far);
    const sizeBefore = statSync(path).size;
    const filler = fillDisk(root);
    // A jti long enough that its line cannot fit in what is left of the file's page.
    const e = await codeOf(list.add(`tok_${"x".repeat(8000)}`, far));
    expect(e.code).toBe("IO_ERROR");
    expect(e.message).toBe(`Cannot record the revocation in ${path}: ENOSPC (the disk is full: free some space, then retry). Nothing was revoked: the token still verifies until it expires. Fix that, then revoke it again.`);
    expect(statSync(path).size).toBe(sizeBefore);
    expect(readFileSync(path, "utf8").endsWith("\n")).toBe(true);
    unlinkSync(filler);
    await list.add("tok_after", far);
    const fresh = new FileRevocationList(path, Date.now);
    expect([fresh.has("tok_before"), fresh.has("tok_after"), fresh.has(`tok_${"x".repeat(8000)}`)]).toEqual([true, true, false]);
  });
});

describe("FileStore: only an unterminated last line is torn; any other unreadable line is STORE_CORRUPT", () => {
  const line = (name: string, value: string) => JSON.stringify({ set: name, record: record(value) });

  it("a damaged line in the middle: every operation refuses with STORE_CORRUPT naming the line, and nothing is written", async () => {
    const dir = tempDir();
    const path = join(dir, dataFiles.secrets);
    const damaged = line("b", "value-b").replace('"value":', '"val'); // not JSON any more
    const content = `${HEADER}\n${line("a", "value-a")}\n${damaged}\n${line("c", "value-c")}\n`;
    writeFileSync(path, content, { mode: 0o600 });
    const store = new FileStore({ dir });
    for (const op of [store.get("a"), store.get("b"), store.list(), store.delete("c"), store.delete("a"), store.set("d", record("d")), store.compact()]) {
      const e = await codeOf(op);
      expect(e.code).toBe("STORE_CORRUPT");
      expect(e.message).toContain(`${path} is damaged at line 3: the line is not JSON`);
      expect(e.message).toMatch(/restore it from a backup, or move it aside/);
      expect(e.message).toContain("delete line 3 by hand");
    }
    expect(readFileSync(path, "utf8")).toBe(content);
    expect(readdirSync(dir).filter((n) => !n.startsWith(`${dataFiles.secretsLock}.`)).sort()).toEqual([dataFiles.secrets]);
  });

  it("a damaged last line that has its newline is damage too, not a torn write", async () => {
    const dir = tempDir();
    const path = join(dir, dataFiles.secrets);
    const content = `${HEADER}\n${line("a", "value-a")}\n${line("b", "value-b").slice(0, 30)}\n`;
    writeFileSync(path, content, { mode: 0o600 });
    const e = await codeOf(new FileStore({ dir }).delete("a"));
    expect(e.code).toBe("STORE_CORRUPT");
    expect(e.message).toContain("line 3");
    expect(readFileSync(path, "utf8")).toBe(content);
  });

  it("with MCB_STORE_KEY: a record that fails authentication, or is not JSON, in the middle is STORE_CORRUPT naming the line", async () => {
    const passphrase = "fault passphrase";
    for (const [what, damage, expected] of [
      ["altered ciphertext", (l: string) => { const j = JSON.parse(l); const d = Buffer.from(j.data, "base64"); d[3] = d[3]! ^ 0x40; j.data = d.toString("base64"); return JSON.stringify(j); }, "the encrypted record fails authentication"],
      ["a line that is not JSON", (l: string) => l.replace('"data":', '"data"'), "the line is not JSON"],
    ] as const) {
      const dir = tempDir();
      const w = new FileStore({ dir, passphrase });
      for (const n of ["a", "b", "c"]) await w.set(n, record(`value-${n}`));
      const lines = readFileSync(w.path, "utf8").split("\n");
      lines[2] = damage(lines[2]!);
      const content = lines.join("\n");
      writeFileSync(w.path, content);
      const store = new FileStore({ dir, passphrase });
      for (const op of [store.get("a"), store.list(), store.delete("c"), store.set("d", record("d"))]) {
        const e = await codeOf(op);
        expect({ what, code: e.code }).toEqual({ what, code: "STORE_CORRUPT" });
        expect(e.message).toContain(`damaged at line 3: ${expected}`);
      }
      expect(readFileSync(w.path, "utf8")).toBe(content);
    }
  });

  it("a torn last line is skipped; the next write cuts it after keeping a copy aside, and every other record stays", async () => {
    const dir = tempDir();
    const path = join(dir, dataFiles.secrets);
    const torn = line("b", "value-b").slice(0, 25);
    writeFileSync(path, `${HEADER}\n${line("a", "value-a")}\n${torn}`, { mode: 0o600 });
    const store = new FileStore({ dir });
    expect((await store.list()).map((e) => e.name)).toEqual(["a"]);
    expect(keptAside(dir)).toBe(""); // reading changes nothing
    expect(await store.delete("a")).toBe(true); // a rewrite of the whole file
    expect(keptAside(dir)).toBe(`${torn}\n`);
    await store.set("c", record("value-c"));
    expect((await new FileStore({ dir }).list()).map((e) => e.name)).toEqual(["c"]);
    wholeLines(path);
  });

  it("a whole record that lacks only its newline (a file cut at a line's end) is read, and completed by the next write", async () => {
    const dir = tempDir();
    const path = join(dir, dataFiles.secrets);
    writeFileSync(path, `${HEADER}\n${line("a", "value-a")}\n${line("b", "value-b")}`, { mode: 0o600 });
    const store = new FileStore({ dir });
    expect((await store.get("b"))?.value).toBe("value-b");
    expect((await store.list()).map((e) => e.name).sort()).toEqual(["a", "b"]);
    await store.set("c", record("value-c"));
    expect(wholeLines(path)).toHaveLength(4);
    const fresh = new FileStore({ dir });
    expect((await fresh.list()).map((e) => e.name).sort()).toEqual(["a", "b", "c"]);
    expect(await fresh.delete("b")).toBe(true);
    expect((await new FileStore({ dir }).list()).map((e) => e.name).sort()).toEqual(["a", "c"]);
    expect(keptAside(dir)).toBe("");
  });

  it("a record an older version glued to a torn write is read, and the torn bytes are kept aside before a rewrite drops them", async () => {
    const dir = tempDir();
    const path = join(dir, dataFiles.secrets);
    const torn = line("x", "never-acknowledged").slice(0, 31);
    // Tags may hold '{"set":' text of their own: only a whole record at the end of the line counts.
    const glued = `${torn}${JSON.stringify({ set: "b", record: record("value-b", { tags: { note: '{"set":"x"}' } }) })}`;
    writeFileSync(path, `${HEADER}\n${line("a", "value-a")}\n${glued}\n${line("c", "value-c")}\n`, { mode: 0o600 });
    const store = new FileStore({ dir });
    expect((await store.get("b"))?.value).toBe("value-b");
    expect(await store.get("x")).toBeNull();
    expect(await store.delete("a")).toBe(true);
    expect(keptAside(dir)).toBe(`${torn}\n`);
    const fresh = new FileStore({ dir });
    expect((await fresh.list()).map((e) => e.name).sort()).toEqual(["b", "c"]);
    expect((await fresh.get("b"))?.tags).toEqual({ note: '{"set":"x"}' });
  });
});
