// The file ledger of remembered approvals: private files, listing only those in force (this boot,
// a live broker process, not expired), revocation from any process, and bootId.
import { describe, expect, it } from "bun:test";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { APPROVALS_DIR, bootId, FileApprovalLedger } from "../../src/approval/ledger.ts";
import { tempDirs } from "../support/temp-dirs.ts";

const tempDir = tempDirs("mcb-ledger-");
const entry = (over: Partial<{ name: string; client: string; expiresAt: number }> = {}) => ({ name: "gh", client: "claude", approver: "zenity" as const, createdAt: 1_000, expiresAt: 61_000, ...over });

function ledger(dataDir: string, over: Partial<{ pid: number; boot: string; now: number; alive: Set<number> }> = {}) {
  const alive = over.alive ?? new Set([100, 200]);
  return new FileApprovalLedger({ dataDir, pid: over.pid ?? 100, boot: over.boot ?? "boot-a", now: () => over.now ?? 2_000, isAlive: (pid) => alive.has(pid) });
}

describe("FileApprovalLedger", () => {
  it("writes one 0600 file per approval in a 0700 dir, with names and times only", () => {
    const dir = tempDir();
    const id = ledger(dir).add(entry())!;
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    const sub = join(dir, APPROVALS_DIR);
    expect(statSync(sub).mode & 0o777).toBe(0o700);
    expect(readdirSync(sub)).toEqual([`${id}.json`]);
    expect(statSync(join(sub, `${id}.json`)).mode & 0o777).toBe(0o600);
    expect(ledger(dir).has(id)).toBe(true);
    expect(ledger(dir).has("../../etc/passwd")).toBe(false);
  });

  it("lists what is in force, soonest first, and drops entries of dead processes, an earlier boot, or past their time", () => {
    const dir = tempDir();
    const a = ledger(dir, { pid: 100 });
    const b = ledger(dir, { pid: 200 });
    a.add(entry({ name: "late", expiresAt: 90_000 }));
    b.add(entry({ name: "soon", expiresAt: 50_000 }));
    ledger(dir, { pid: 300 }).add(entry({ name: "dead" }));
    ledger(dir, { boot: "boot-old" }).add(entry({ name: "rebooted" }));
    a.add(entry({ name: "expired", expiresAt: 1_500 }));
    writeFileSync(join(dir, APPROVALS_DIR, `${"f".repeat(24)}.json`), "not json");
    expect(a.list().map((e) => [e.name, e.pid])).toEqual([
      ["soon", 200],
      ["late", 100],
    ]);
    expect(readdirSync(join(dir, APPROVALS_DIR))).toHaveLength(2);
  });

  it("clears one secret's approvals or all, from any process, and counts those that were in force", () => {
    const dir = tempDir();
    const serving = ledger(dir, { pid: 100 });
    const kept = serving.add(entry({ name: "other" }))!;
    const gone = serving.add(entry())!;
    serving.add(entry({ client: "cursor" }));
    const cli = ledger(dir, { pid: 999 });
    expect(cli.clear("gh")).toBe(2);
    expect(serving.has(gone)).toBe(false);
    expect(serving.has(kept)).toBe(true);
    expect(cli.clear()).toBe(1);
    expect(cli.list()).toEqual([]);
  });

  it("cannot write (read-only data dir): add says so with null", () => {
    const dir = tempDir();
    writeFileSync(join(dir, APPROVALS_DIR), "a file in the way");
    expect(ledger(dir).add(entry())).toBeNull();
  });
});

describe("bootId", () => {
  it("is Linux's random boot id, else the boot time to the minute", () => {
    expect(bootId("linux", () => "1b4e28ba-2fa1-11d2-883f-0016d3cca427\n")).toBe("1b4e28ba-2fa1-11d2-883f-0016d3cca427");
    expect(bootId("linux", () => {
      throw new Error("no procfs");
    })).toMatch(/^boot-\d+$/);
    expect(bootId("darwin")).toMatch(/^boot-\d+$/);
  });
});
