import { describe, expect, it } from "bun:test";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseSince, readAuditLog, verifyAuditLog } from "../../src/files/audit-reader.ts";
import { PendingFile, readPendingLines } from "../../src/files/audit-pending.ts";
import { auditKey, GENESIS_PREV, lineHash, type AuditEntry } from "../../src/core/audit.ts";
import { FileAuditLog } from "../../src/files/audit-log.ts";

function tempLog(): string {
  return join(mkdtempSync(join(tmpdir(), "mcb-audit-")), "audit.jsonl");
}

const entry = (i: number): AuditEntry => ({ event: "get", name: `secret-${i}`, purpose: `purpose ${i}`, client: "unit", reference: `ref_${i}`, outcome: "ok" });

async function write(path: string, n: number, opts: { maxBytes?: number; from?: number; key?: Buffer } = {}): Promise<void> {
  let t = 1_700_000_000_000;
  const key = opts.key;
  const log = new FileAuditLog({ path, now: () => (t += 1000), maxBytes: opts.maxBytes, ...(key ? { chainKey: async () => key } : {}) });
  for (let i = 0; i < n; i++) await log.record(entry((opts.from ?? 0) + i));
  await log.close();
}

const linesOf = (path: string) => readFileSync(path, "utf8").split("\n").slice(0, -1);

/** Rewrites one line of a file through `edit`; `null` deletes it. */
function editLine(path: string, lineNo: number, edit: (line: string) => string | null): void {
  const lines = linesOf(path);
  const changed = edit(lines[lineNo - 1]!);
  if (changed === null) lines.splice(lineNo - 1, 1);
  else lines[lineNo - 1] = changed;
  writeFileSync(path, `${lines.join("\n")}\n`);
}

describe("FileAuditLog", () => {
  it("chains lines: seq counts up, prev is the SHA-256 of the previous line's bytes, the first prev is the genesis value", async () => {
    const path = tempLog();
    await write(path, 5);
    const lines = linesOf(path);
    expect(lines).toHaveLength(5);
    lines.forEach((line, i) => {
      const l = JSON.parse(line);
      expect(l.seq).toBe(i + 1);
      expect(l.prev).toBe(i === 0 ? GENESIS_PREV : lineHash(lines[i - 1]!));
      expect(l).toMatchObject({ event: "get", name: `secret-${i}`, client: "unit", outcome: "ok" });
    });
    expect(verifyAuditLog(path)).toEqual({ ok: true, lines: 5, files: ["audit.jsonl"], head: { seq: 5, hash: lineHash(lines[4]!) }, keyed: { kid: null, proven: 0, unkeyed: 5, unchecked: 0 } });
  });

  it("continues one chain when two writers take turns (each sees the other's lines)", async () => {
    const path = tempLog();
    const a = new FileAuditLog({ path, now: Date.now });
    const b = new FileAuditLog({ path, now: Date.now });
    for (let i = 0; i < 10; i++) await (i % 3 === 0 ? a : b).record(entry(i));
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, lines: 10 });
  });

  it("keeps one unbroken chain when four processes append at once", async () => {
    const path = tempLog();
    const fixture = resolve(import.meta.dir, "../fixtures/audit-writer.ts");
    const procs = [0, 1, 2, 3].map((w) => Bun.spawn([process.execPath, fixture, path, String(w), "40"], { stdout: "ignore", stderr: "pipe" }));
    const codes = await Promise.all(procs.map((p) => p.exited));
    expect(codes).toEqual([0, 0, 0, 0]);
    const v = verifyAuditLog(path);
    expect(v).toMatchObject({ ok: true, lines: 160 });
    expect(new Set(readAuditLog(path).map((l) => l.name)).size).toBe(160);
  }, 20_000);

  it("rotates at the size limit into audit.1.jsonl, audit.2.jsonl … without breaking the chain", async () => {
    const path = tempLog();
    await write(path, 60, { maxBytes: 4096 });
    const dir = join(path, "..");
    const rotated = readdirSync(dir).filter((f) => /^audit\.\d+\.jsonl$/.test(f)).sort((x, y) => Number(x.split(".")[1]) - Number(y.split(".")[1]));
    expect(rotated.length).toBeGreaterThanOrEqual(3);
    for (const f of [...rotated, "audit.jsonl"]) expect(readFileSync(join(dir, f)).length).toBeLessThanOrEqual(4096);
    // The live file's first line points at the last line of the newest rotated file.
    const newest = linesOf(join(dir, rotated.at(-1)!));
    expect(JSON.parse(linesOf(path)[0]!).prev).toBe(lineHash(newest.at(-1)!));
    const v = verifyAuditLog(path);
    expect(v).toMatchObject({ ok: true, lines: 60, files: [...rotated, "audit.jsonl"] });
    expect(readAuditLog(path).map((l) => l.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  });

  it("continues the chain after a rotated-away live file was not yet recreated", async () => {
    const path = tempLog();
    await write(path, 3);
    renameSync(path, join(path, "..", "audit.1.jsonl"));
    expect(existsSync(path)).toBe(false);
    await write(path, 2, { from: 3 });
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, lines: 5, files: ["audit.1.jsonl", "audit.jsonl"] });
  });

  it("cuts a torn last line (a writer killed mid-write) before appending, keeping its bytes aside: the chain stays whole", async () => {
    const path = tempLog();
    await write(path, 3);
    const torn = '{"time":"2026-01-01T00:00:00.000Z","event":"get"';
    appendFileSync(path, torn);
    await write(path, 2, { from: 3 });
    expect(linesOf(path).map((l) => JSON.parse(l).name)).toEqual(["secret-0", "secret-1", "secret-2", "secret-3", "secret-4"]);
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, lines: 5 });
    const aside = readdirSync(join(path, "..")).filter((n) => n.startsWith("audit.jsonl.torn-"));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(path, "..", aside[0]!), "utf8")).toBe(`${torn}\n`);
  });

  it("a file holding only a torn line: the chain starts afresh after it is cut", async () => {
    const path = tempLog();
    writeFileSync(path, '{"time":"2026-01-01T00:00:00.000Z","ev');
    await write(path, 2);
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, lines: 2 });
  });
});

describe("verifyAuditLog names the first bad line", () => {
  const cases: [string, (path: string) => void, number, RegExp][] = [
    ["a middle line edited (its purpose)", (p) => editLine(p, 4, (l) => l.replace("purpose 3", "purpose X")), 4, /edited/],
    ["a middle line edited (its time)", (p) => editLine(p, 5, (l) => l.replace(/"time":"[^"]+"/, '"time":"2020-01-01T00:00:00.000Z"')), 5, /edited/],
    ["a middle line deleted", (p) => editLine(p, 4, () => null), 4, /1 line before this one was deleted/],
    ["two lines deleted", (p) => (editLine(p, 4, () => null), editLine(p, 4, () => null)), 4, /2 lines before this one were deleted/],
    ["the first line deleted", (p) => editLine(p, 1, () => null), 1, /deleted/],
    ["the first line edited", (p) => editLine(p, 1, (l) => l.replace("secret-0", "secret-9")), 1, /edited/],
    ["a line's prev rewritten", (p) => editLine(p, 3, (l) => l.replace(/"prev":"[0-9a-f]{64}"/, `"prev":"${"a".repeat(64)}"`)), 3, /edited/],
    ["a line's seq rewritten", (p) => editLine(p, 6, (l) => l.replace('"seq":6', '"seq":5')), 6, /seq 5 repeats/],
    ["a line made unreadable", (p) => editLine(p, 2, (l) => l.slice(0, -3)), 2, /not a valid audit line/],
    ["a line whose chain fields were removed", (p) => editLine(p, 7, (l) => JSON.stringify({ ...JSON.parse(l), prev: undefined })), 7, /not a valid audit line/],
    ["two lines swapped", (p) => {
      const lines = linesOf(p);
      [lines[2], lines[3]] = [lines[3]!, lines[2]!];
      writeFileSync(p, `${lines.join("\n")}\n`);
    }, 3, /deleted/],
    ["the last line cut short", (p) => writeFileSync(p, readFileSync(p, "utf8").slice(0, -10)), 8, /incomplete line/],
  ];

  it.each(cases)("%s", async (_title, tamper, badLine, reason) => {
    const path = tempLog();
    await write(path, 8);
    expect(verifyAuditLog(path).ok).toBe(true);
    tamper(path);
    const v = verifyAuditLog(path);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.bad).toMatchObject({ file: "audit.jsonl", line: badLine });
    expect(v.bad.reason).toMatch(reason);
  });

  it("a deleted rotated file breaks the chain at the first line of the next file", async () => {
    const path = tempLog();
    await write(path, 60, { maxBytes: 4096 });
    const dir = join(path, "..");
    expect(existsSync(join(dir, "audit.3.jsonl"))).toBe(true);
    rmSync(join(dir, "audit.2.jsonl"));
    const v = verifyAuditLog(path);
    expect(v).toMatchObject({ ok: false, bad: { file: "audit.3.jsonl", line: 1, reason: expect.stringMatching(/lines before this one were deleted/) } });
  });

  it("an edit in a rotated file is found there", async () => {
    const path = tempLog();
    await write(path, 40, { maxBytes: 4096 });
    const first = join(path, "..", "audit.1.jsonl");
    editLine(first, 2, (l) => l.replace('"client":"unit"', '"client":"evil"'));
    expect(verifyAuditLog(path)).toMatchObject({ ok: false, bad: { file: "audit.1.jsonl", line: 2 } });
  });

  it("an empty or missing log verifies, with no head", () => {
    expect(verifyAuditLog(tempLog())).toEqual({ ok: true, lines: 0, files: [], head: null, keyed: { kid: null, proven: 0, unkeyed: 0, unchecked: 0 } });
  });
});

describe("readAuditLog and parseSince", () => {
  it("filters by time and by secret name", async () => {
    const path = tempLog();
    await write(path, 6); // times 1_700_000_001_000 … 1_700_000_006_000
    expect(readAuditLog(path, { since: 1_700_000_004_000 }).map((l) => l.name)).toEqual(["secret-3", "secret-4", "secret-5"]);
    expect(readAuditLog(path, { name: "secret-2" }).map((l) => l.seq)).toEqual([3]);
    expect(readAuditLog(path, { name: "secret-2", since: 1_700_000_004_000 })).toEqual([]);
  });

  const now = Date.parse("2026-06-15T12:00:00.000Z");
  it.each([
    ["90s", now - 90_000],
    ["30m", now - 1_800_000],
    ["1h", now - 3_600_000],
    ["7d", now - 7 * 86_400_000],
    ["2w", now - 14 * 86_400_000],
    ["2026-06-01", Date.parse("2026-06-01")],
    ["2026-06-15T11:00:00Z", now - 3_600_000],
  ])("reads --since %s", (raw, want) => {
    expect(parseSince(raw, now)).toBe(want);
  });

  it.each(["", "1", "h", "-1h", "1y", "yesterday", "2026-13-45"])("refuses --since %j", (raw) => {
    expect(() => parseSince(raw, now)).toThrow(/--since/);
  });
});

describe("FileAuditLog batching and failure", () => {
  it("writes lines recorded together as one batch, in order, and resolves each once it is on disk", async () => {
    const path = tempLog();
    const log = new FileAuditLog({ path, now: Date.now });
    const pending = [0, 1, 2, 3, 4].map((i) => log.record(entry(i)));
    expect(existsSync(path)).toBe(false); // nothing is written before the caller's turn ends
    await pending[4];
    expect(linesOf(path).map((l) => JSON.parse(l).name)).toEqual([0, 1, 2, 3, 4].map((i) => `secret-${i}`));
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, lines: 5 });
    await log.close();
  });

  it("fails closed: after a failed write every later record and assertWritable throw", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mcb-audit-fail-"));
    const path = join(dir, "audit.jsonl");
    // A directory where the log file should be: opening it for append fails.
    mkdirSync(path);
    const log = new FileAuditLog({ path, now: Date.now });
    await expect(log.record(entry(0))).rejects.toThrow(/audit log/);
    expect(() => log.assertWritable()).toThrow(/audit log/);
    await expect(log.record(entry(1))).rejects.toThrow(/audit log/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("FileAuditLog write-ahead file (lines someone waits for)", () => {
  const pendingFiles = (path: string) => readdirSync(resolve(path, "..")).filter((n) => n.startsWith("audit.jsonl.pending."));
  /** A pid that belonged to a process which has exited (and was reaped). */
  const deadPid = () => Bun.spawnSync(["true"]).pid;

  it("has an urgent line on disk when record resolves, before the chain has it; the batch chains it and empties the file", async () => {
    const path = tempLog();
    const log = new FileAuditLog({ path, now: Date.now });
    const first = log.record(entry(0));
    await log.record(entry(1), { urgent: true });
    await first; // written ahead together with the urgent line, in order
    const [wal] = pendingFiles(path);
    expect(wal).toMatch(new RegExp(`^audit\\.jsonl\\.pending\\.${process.pid}\\.[0-9a-f]+$`));
    const walPath = join(resolve(path, ".."), wal!);
    if (process.platform !== "win32") expect(statSync(walPath).mode & 0o777).toBe(0o600); // Windows has no such modes
    expect(readPendingLines(walPath).map((l) => JSON.parse(l).name)).toEqual(["secret-0", "secret-1"]);
    expect(existsSync(path)).toBe(false);
    await log.flush();
    expect(linesOf(path).map((l) => JSON.parse(l).name)).toEqual(["secret-0", "secret-1"]);
    expect(readPendingLines(walPath)).toEqual([]);
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, lines: 2 });
    await log.close();
    expect(pendingFiles(path)).toEqual([]);
  });

  it("a burst of urgent lines lands whole and in order, in the write-ahead file and then in the chain", async () => {
    const path = tempLog();
    const log = new FileAuditLog({ path, now: Date.now });
    const big = (i: number): AuditEntry => ({ ...entry(i), purpose: "p".repeat(1000) });
    await Promise.all(Array.from({ length: 150 }, (_, i) => log.record(big(i), { urgent: true })));
    await log.close();
    expect(linesOf(path).map((l) => JSON.parse(l).name)).toEqual(Array.from({ length: 150 }, (_, i) => `secret-${i}`));
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, lines: 150 });
    expect(pendingFiles(path)).toEqual([]);
  });

  it("chains a stopped process's pending lines (marked recovered) before its own first line, drops a torn last line and unknown fields, removes the file", async () => {
    const path = tempLog();
    await write(path, 2);
    const orphan = `${path}.pending.${deadPid()}.0badc0de`;
    const pending = [
      { time: "2026-01-02T03:04:05.000Z", event: "resolve", name: "gh", reference: "ref_x", client: "claude", outcome: "ok" },
      { time: "2026-01-02T03:04:06.000Z", event: "mint", provider: "github", tokenId: "jti-1", outcome: "ok" },
    ];
    // A field no audit line has (here a would-be value) never reaches the chain.
    const planted = { ...pending[0], value: "PLANTED-VALUE", seq: 999 };
    writeFileSync(orphan, `${[planted, pending[1]].map((p) => JSON.stringify(p)).join("\n")}\n{"time":"2026-01-02T03:04:07.000Z","ev`);
    const log = new FileAuditLog({ path, now: Date.now });
    await log.record(entry(9));
    await log.close();
    const lines = linesOf(path).map((l) => JSON.parse(l));
    expect(lines.map((l) => l.name ?? l.event)).toEqual(["secret-0", "secret-1", "gh", "mint", "secret-9"]);
    expect(lines[2]).toMatchObject({ ...pending[0], recovered: true, seq: 3 });
    expect(lines[3]).toMatchObject({ ...pending[1], recovered: true, seq: 4 });
    expect(lines[4].recovered).toBeUndefined();
    expect(readFileSync(path, "utf8")).not.toContain("PLANTED-VALUE");
    expect(existsSync(orphan)).toBe(false);
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, lines: 5 });
  });

  it("leaves a live process's pending file alone", async () => {
    const path = tempLog();
    const live = Bun.spawn(["sleep", "30"]);
    try {
      const other = `${path}.pending.${live.pid}.12345678`;
      writeFileSync(other, `${JSON.stringify({ time: new Date().toISOString(), event: "resolve", name: "x", outcome: "ok" })}\n`);
      await write(path, 1);
      expect(existsSync(other)).toBe(true);
      expect(linesOf(path)).toHaveLength(1);
    } finally {
      live.kill();
      await live.exited;
    }
  });

  it("fails closed when the write-ahead file cannot be written: the urgent line is refused, and so is everything after", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mcb-audit-wal-fail-"));
    writeFileSync(join(dir, "not-a-dir"), "");
    const log = new FileAuditLog({ path: join(dir, "not-a-dir", "audit.jsonl"), now: Date.now });
    await expect(log.record(entry(0), { urgent: true })).rejects.toThrow(/Cannot write the audit log/);
    expect(() => log.assertWritable()).toThrow(/audit log/);
    await expect(log.record(entry(1))).rejects.toThrow(/audit log/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("PendingFile", () => {
  it("appends whole lines, reads them back, clears to empty, and refuses an existing file (O_EXCL)", () => {
    const path = join(mkdtempSync(join(tmpdir(), "mcb-pending-")), "audit.jsonl.pending.1.abcd");
    const f = new PendingFile(path);
    f.append(Buffer.from('{"a":1}\n{"b":2}\n'));
    f.append(Buffer.from('{"c":3}\n'));
    expect(readPendingLines(path)).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    f.clear();
    expect(readPendingLines(path)).toEqual([]);
    f.append(Buffer.from('{"d":4}\n'));
    expect(readPendingLines(path)).toEqual(['{"d":4}']);
    f.close();
    expect(() => new PendingFile(path)).toThrow(/EEXIST/);
  });
});

describe("the keyed chain (a MAC under a key kept in the store)", () => {
  const KEY = Buffer.alloc(32, 7);
  const key = auditKey(KEY);

  /** Rewrites the log as someone without the key would: edit lines, then recompute seq/prev so the plain hash chain holds. */
  function forge(path: string, edit: (lines: Record<string, unknown>[]) => Record<string, unknown>[]): void {
    const out: string[] = [];
    let prev = GENESIS_PREV;
    edit(linesOf(path).map((l) => JSON.parse(l))).forEach((l, i) => {
      const text = JSON.stringify({ ...l, seq: i + 1, prev });
      out.push(text);
      prev = lineHash(text);
    });
    writeFileSync(path, `${out.join("\n")}\n`);
  }

  it("every line names the key and carries a MAC; verify with the key proves them all", async () => {
    const path = tempLog();
    await write(path, 6, { key: KEY });
    for (const l of linesOf(path)) expect(l).toMatch(new RegExp(`,"kid":"${key.id}","mac":"[0-9a-f]{64}"}$`));
    expect(verifyAuditLog(path, key)).toMatchObject({ ok: true, lines: 6, keyed: { kid: key.id, proven: 6, unkeyed: 0, unchecked: 0 } });
    // Without the key only the structure is checked, and it says so.
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, keyed: { kid: null, proven: 0, unchecked: 6 } });
    expect(readFileSync(path, "utf8")).not.toContain(KEY.toString("hex"));
  });

  it("a rewrite whose hash chain is recomputed passes the plain check but fails the MAC: rewriting needs the key", async () => {
    const path = tempLog();
    await write(path, 6, { key: KEY });
    forge(path, (ls) => ls.map((l, i) => (i === 2 ? { ...l, client: "someone-else" } : l)));
    expect(verifyAuditLog(path, key)).toMatchObject({ ok: false, bad: { line: 3, reason: expect.stringMatching(/MAC does not match/) } });
  });

  it("a line appended without the key (no MAC, another key's, or a made-up MAC) fails: extending needs the key", async () => {
    for (const [what, extra, reason] of [
      ["no MAC", {}, /has no MAC though the lines before it do/],
      ["another key's", { kid: "0123456789abcdef", mac: "a".repeat(64) }, /under another key/],
      ["a made-up MAC under this key's id", { kid: key.id, mac: "b".repeat(64) }, /MAC does not match/],
    ] as const) {
      const path = tempLog();
      await write(path, 3, { key: KEY });
      const last = linesOf(path).at(-1)!;
      const forged = JSON.stringify({ time: new Date().toISOString(), event: "store", name: "planted", client: "x", outcome: "ok", seq: 4, prev: lineHash(last), ...extra });
      appendFileSync(path, `${forged}\n`);
      expect({ what, v: verifyAuditLog(path, key) }).toMatchObject({ what, v: { ok: false, bad: { line: 4, reason: expect.stringMatching(reason) } } });
    }
  });

  it("lines written before the chain was keyed are counted as unkeyed; the keyed ones after them are proven", async () => {
    const path = tempLog();
    await write(path, 2);
    await write(path, 3, { from: 2, key: KEY });
    expect(verifyAuditLog(path, key)).toMatchObject({ ok: true, lines: 5, keyed: { proven: 3, unkeyed: 2 } });
  });

  it("a store key that is not the chain's: every keyed line is refused as another key's", async () => {
    const path = tempLog();
    await write(path, 2, { key: KEY });
    expect(verifyAuditLog(path, auditKey(Buffer.alloc(32, 9)))).toMatchObject({ ok: false, bad: { line: 1, reason: expect.stringMatching(/under another key/) } });
  });
});
