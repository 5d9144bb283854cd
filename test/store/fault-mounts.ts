// Real faults need real file systems: a small tmpfs is a disk that fills up, a read-only bind
// mount a data dir nobody (root included: chmod does not stop root) can write. Both need root.
// Outside CI a test that cannot mount is skipped with the reason printed; under CI=true it fails.
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const mounted: string[] = [];
const made: string[] = [];

function run(argv: string[]): { ok: boolean; err: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
  return { ok: r.status === 0, err: `${r.stderr ?? ""}${r.error ? String(r.error) : ""}`.trim() };
}

/** Null when mounting works here; otherwise why not (the skip reason). */
function probe(): string | null {
  if (process.platform !== "linux") return `mount(8) tests need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "mounting a tmpfs or a read-only bind mount needs root";
  const dir = mkdtempSync(join(tmpdir(), "mcb-mount-probe-"));
  try {
    const r = run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]);
    if (!r.ok) return `mount -t tmpfs failed: ${r.err}`;
    run(["umount", dir]);
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const why = probe();
const inCi = process.env.CI === "true";
if (why && !inCi) process.stderr.write(`store fault tests: skipping the full-disk and read-only tests: ${why}\n`);

/** True when the mount tests must be skipped (never under CI=true: there they fail loudly). */
export const skipMounts = why !== null && !inCi;

function needMounts(): void {
  if (why) throw new Error(`CI=true but the fault tests cannot mount: ${why}`);
}

/** A fresh tmpfs of `size` (e.g. "256k"), mode 0700; unmounted by unmountAll. */
export function mountTmpfs(size: string): string {
  needMounts();
  const dir = mkdtempSync(join(tmpdir(), "mcb-tmpfs-"));
  made.push(dir);
  const r = run(["mount", "-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir]);
  if (!r.ok) throw new Error(`mount -t tmpfs ${dir}: ${r.err}`);
  mounted.push(dir);
  return dir;
}

/** A read-only view of `dir` (a bind mount remounted ro): EROFS for every write, root's included. */
export function readOnlyView(dir: string): string {
  needMounts();
  const view = mkdtempSync(join(tmpdir(), "mcb-ro-"));
  made.push(view);
  let r = run(["mount", "--bind", dir, view]);
  if (!r.ok) throw new Error(`mount --bind ${dir} ${view}: ${r.err}`);
  mounted.push(view);
  r = run(["mount", "-o", "remount,bind,ro", view]);
  if (!r.ok) throw new Error(`mount -o remount,bind,ro ${view}: ${r.err}`);
  return view;
}

/**
 * Fills the file system holding `dir` with a file `name`, until write(2) fails with ENOSPC;
 * with `leavePages`, that many 4 KiB pages stay free (a tmpfs allocates file data by the page).
 */
export function fillDisk(dir: string, name = "filler", leavePages = 0): string {
  const reserve = join(dir, `${name}.reserve`);
  if (leavePages > 0) {
    const fd = openSync(reserve, "w", 0o600);
    try {
      writeSync(fd, Buffer.alloc(leavePages * 4096, 0x72));
    } finally {
      closeSync(fd);
    }
  }
  try {
    return fillUp(dir, name);
  } finally {
    if (leavePages > 0) rmSync(reserve);
  }
}

function fillUp(dir: string, name: string): string {
  const path = join(dir, name);
  const fd = openSync(path, "a", 0o600);
  const chunk = Buffer.alloc(4096, 0x66);
  try {
    for (;;) {
      try {
        if (writeSync(fd, chunk) < chunk.length) break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOSPC") break;
        throw e;
      }
    }
    // The last page may still have a few bytes: take those too.
    for (;;) {
      try {
        if (writeSync(fd, Buffer.from("f")) < 1) break;
      } catch {
        break;
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

/** Unmounts what these helpers mounted (newest first) and removes their directories. */
export function unmountAll(): void {
  for (const m of mounted.splice(0).reverse()) {
    if (!run(["umount", m]).ok) run(["umount", "-l", m]);
  }
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}
