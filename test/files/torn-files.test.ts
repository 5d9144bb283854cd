// Copies of torn writes: kept aside whole, listed, and removed after a week or beyond ten.
import { describe, expect, it } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileStore } from "../../src/store/file.ts";
import { keepTornBytes, pruneTornFiles, TORN_KEEP, tornFiles } from "../../src/files/torn-files.ts";
import { tempDirs } from "../support/temp-dirs.ts";

const tempDir = tempDirs("mcb-torn-");
const DAY = 86_400_000;

/** A copy named as keepTornBytes names them, made `ageDays` ago. */
function copy(dir: string, log: string, ageDays: number, i: number): string {
  const path = join(dir, `${log}.torn-2026-01-01T00-00-00-000Z-${i}`);
  writeFileSync(path, "torn\n", { mode: 0o600 });
  const t = (Date.now() - ageDays * DAY) / 1000;
  utimesSync(path, t, t);
  return path;
}

describe("torn-bytes copies", () => {
  it("keeps torn bytes whole in a 0600 file beside the log, one chunk per line, and lists it", () => {
    const dir = tempDir();
    const log = join(dir, "secrets.jsonl");
    keepTornBytes(log, [Buffer.from("abc"), Buffer.from("def")]);
    const [f] = tornFiles(log);
    expect(readFileSync(f!.path, "utf8")).toBe("abc\ndef\n");
    if (process.platform !== "win32") expect(statSync(f!.path).mode & 0o777).toBe(0o600); // Windows has no such modes
    expect(f!.size).toBe(8);
  });

  it("removes copies older than 7 days, and all but the 10 newest, of that log only", () => {
    const dir = tempDir();
    const log = join(dir, "secrets.jsonl");
    const old = copy(dir, "secrets.jsonl", 8, 0);
    const young = Array.from({ length: 12 }, (_, i) => copy(dir, "secrets.jsonl", 1 + i * 0.1, i + 1));
    const auditCopy = copy(dir, "audit.jsonl", 8, 99);
    expect(pruneTornFiles(log)).toBe(3);
    expect(existsSync(old)).toBe(false);
    expect(tornFiles(log).map((f) => f.path)).toEqual(young.slice(0, TORN_KEEP.maxCount));
    expect(existsSync(auditCopy)).toBe(true);
  });

  it("opening the file store prunes its copies; keeping a new copy prunes too", () => {
    const dir = tempDir();
    const old = copy(dir, "secrets.jsonl", 30, 0);
    new FileStore({ dir });
    expect(existsSync(old)).toBe(false);
    const audit = join(dir, "audit.jsonl");
    const oldAudit = copy(dir, "audit.jsonl", 30, 1);
    keepTornBytes(audit, [Buffer.from("x")]);
    expect(existsSync(oldAudit)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith("audit.jsonl.torn-"))).toHaveLength(1);
  });
});
