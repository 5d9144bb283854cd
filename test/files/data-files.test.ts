// Data-dir files are never opened through a symbolic link, and a data dir other users could
// write is refused: every file the broker keeps there, with a link planted in its place.
import { afterEach, describe, expect, it } from "bun:test";
import { chmodSync, chownSync, closeSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileAuditLog } from "../../src/files/audit-log.ts";
import { FileRevocationList } from "../../src/files/revocation-list.ts";
import { assertPrivateDataDir, openDataFile, readDataFile } from "../../src/files/data-files.ts";
import { describeError } from "../../src/errors.ts";
import { dataFiles } from "../../src/paths.ts";
import { FileStore } from "../../src/store/file.ts";
import { acquireLock } from "../../src/files/lock-file.ts";
import { record } from "../fixtures/store-contract.ts";
import { codeOf } from "../support/broker-error.ts";

/**
 * Whether this process may create symbolic links (on Windows only with the privilege or
 * developer mode); the tests that plant one are skipped without it, saying so. The Windows way
 * of refusing a link (lstat + identity) is also run on Linux below.
 */
const canLink = (() => {
  const d = mkdtempSync(join(tmpdir(), "mcb-link-probe-"));
  try {
    symlinkSync(join(d, "x"), join(d, "y"));
    return true;
  } catch {
    process.stderr.write("data-files tests: skipping the planted-link tests: this process cannot create symbolic links\n");
    return false;
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
})();

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A data dir and, outside it, a victim file a planted link points at. */
function setup(): { dir: string; victim: string } {
  const root = mkdtempSync(join(tmpdir(), "mcb-links-"));
  dirs.push(root);
  const dir = join(root, "home");
  mkdirSync(dir, { mode: 0o700 });
  const victim = join(root, "victim.txt");
  writeFileSync(victim, "VICTIM\n");
  return { dir, victim };
}

/** What a call throws, as the user would read it. */
async function failure(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    return describeError(e);
  }
  throw new Error("expected a refusal");
}

describe.skipIf(!canLink)("openDataFile", () => {
  for (const [how, nofollow] of [["O_NOFOLLOW", constants.O_NOFOLLOW], ["lstat + identity check (the Windows path)", undefined]] as const) {
    it(`${how}: refuses a link for reading and appending (ELOOP), leaves its target alone, opens and creates plain files`, () => {
      const { dir, victim } = setup();
      const link = join(dir, "audit.jsonl");
      symlinkSync(victim, link);
      for (const mode of ["r", "a", "a+"] as const) {
        expect(() => openDataFile(link, mode, 0o600, nofollow)).toThrow(expect.objectContaining({ code: "ELOOP" }));
      }
      expect(readFileSync(victim, "utf8")).toBe("VICTIM\n");
      const plain = join(dir, "plain.jsonl");
      closeSync(openDataFile(plain, "a", 0o600, nofollow));
      closeSync(openDataFile(plain, "r", 0o600, nofollow));
      expect(() => openDataFile(plain, "ax", 0o600, nofollow)).toThrow(expect.objectContaining({ code: "EEXIST" }));
      expect(() => openDataFile(join(dir, "missing"), "r", 0o600, nofollow)).toThrow(expect.objectContaining({ code: "ENOENT" }));
      expect(readDataFile(plain, "utf8")).toBe("");
    });
  }
});

describe.skipIf(!canLink)("no data-dir file is read or written through a planted link", () => {
  const LINK_FIX = /it is a symbolic link, and the broker opens its data files only when they are not \(a link could point anywhere\): remove the link and check who made it/;

  it("secrets.jsonl: reads and writes refuse, naming the file", async () => {
    const { dir, victim } = setup();
    symlinkSync(victim, join(dir, dataFiles.secrets));
    const store = new FileStore({ dir });
    for (const op of [() => store.get("x"), () => store.list(), () => store.set("x", record("v"))]) {
      const e = await failure(op);
      expect(e).toContain(join(dir, dataFiles.secrets));
      expect(e).toMatch(LINK_FIX);
    }
    expect(readFileSync(victim, "utf8")).toBe("VICTIM\n");
  });

  it("audit.jsonl (and a rotated file): appends refuse, fail closed; the reader refuses too", async () => {
    const { dir, victim } = setup();
    symlinkSync(victim, join(dir, dataFiles.audit));
    const log = new FileAuditLog({ path: join(dir, dataFiles.audit), now: Date.now });
    const e = await codeOf(log.record({ event: "get", name: "x", outcome: "ok" }));
    expect(e.message).toMatch(/Cannot write the audit log .*audit\.jsonl: ELOOP/);
    expect(readFileSync(victim, "utf8")).toBe("VICTIM\n");
    const { verifyAuditLog } = await import("../../src/files/audit-reader.ts");
    expect(await failure(() => verifyAuditLog(join(dir, dataFiles.audit)))).toMatch(LINK_FIX);
  });

  it("revoked.jsonl: a revocation refuses, the target keeps its bytes", async () => {
    const { dir, victim } = setup();
    symlinkSync(victim, join(dir, dataFiles.revoked));
    const list = new FileRevocationList(join(dir, dataFiles.revoked), Date.now);
    expect(await failure(() => list.add("jti-1", Date.now() + 60_000))).toMatch(LINK_FIX);
    expect(await failure(() => list.has("jti-1"))).toMatch(LINK_FIX);
    expect(readFileSync(victim, "utf8")).toBe("VICTIM\n");
  });

  it("a lock file: a link in its place is never read or removed as a holder", async () => {
    const { dir, victim } = setup();
    const lock = join(dir, dataFiles.secretsLock);
    symlinkSync(victim, lock);
    const e = await codeOf(acquireLock(lock, { timeoutMs: 100 }));
    expect(e.code).toBe("STORE_LOCKED");
    expect(readFileSync(victim, "utf8")).toBe("VICTIM\n");
  });
});

describe.skipIf(process.platform === "win32")("assertPrivateDataDir (POSIX)", () => {
  const uid = process.getuid!();

  it("passes a 0700 or 0755 dir of ours, and one that does not exist yet", () => {
    const { dir } = setup();
    expect(() => assertPrivateDataDir(dir, process.platform, uid)).not.toThrow();
    chmodSync(dir, 0o755);
    expect(() => assertPrivateDataDir(dir, process.platform, uid)).not.toThrow();
    expect(() => assertPrivateDataDir(join(dir, "not-yet"), process.platform, uid)).not.toThrow();
  });

  for (const mode of [0o777, 0o770, 0o702, 0o1777]) {
    it(`refuses a dir writable by group or others (mode ${mode.toString(8)}) with the chmod that fixes it`, () => {
      const { dir } = setup();
      chmodSync(dir, mode);
      expect(() => assertPrivateDataDir(dir, process.platform, uid)).toThrow(expect.objectContaining({ code: "DATA_DIR_UNSAFE", message: expect.stringContaining(`is writable by other users (mode ${(mode & 0o777).toString(8).padStart(4, "0")}): they could plant files the broker reads or links it writes through. Run: chmod 700 ${dir}`) }));
    });
  }

  it.skipIf(uid !== 0)("refuses a dir owned by another user, naming the owner and the fix", () => {
    const { dir } = setup();
    chownSync(dir, 65534, 65534);
    expect(() => assertPrivateDataDir(dir, process.platform, uid)).toThrow(expect.objectContaining({ code: "DATA_DIR_UNSAFE", message: expect.stringContaining(`belongs to uid 65534, not to you (uid ${uid})`) }));
  });

  it("says nothing on Windows (ACLs, not modes, govern access there)", () => {
    const { dir } = setup();
    chmodSync(dir, 0o777);
    expect(() => assertPrivateDataDir(dir, "win32", uid)).not.toThrow();
  });
});
