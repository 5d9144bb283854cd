// Replaces a file atomically: a crash leaves either the old content or the new, never a mix.
// Used for MCP client configs (src/mcp-clients/install.ts), which users edit by hand and which
// must survive power loss too, hence the fsync the secrets log skips (src/store/file.ts), and
// for the keychain backend's index (src/store/keychain-index.ts), whose every replacement is
// also the signal other broker processes use to drop their cached reads.
import { randomBytes } from "node:crypto";
import { closeSync, fchmodSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { isProcessAlive } from "./lock-file.ts";

/**
 * Writes `content` to a temp file beside `path` (created with `mode`, so never wider for a
 * moment), fsyncs it and renames it over `path`. Temp names are `<path>.<pid>.<hex>.tmp`, which
 * lets a later writer recognise and remove a dead writer's leftovers. Throws the fs error.
 */
export function writeFileAtomic(path: string, content: string, mode: number): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    const fd = openSync(tmp, "wx", mode);
    try {
      writeSync(fd, content);
      fchmodSync(fd, mode); // openSync's mode passes through the umask; keep the intended one exactly
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* never created */
    }
    throw e;
  }
}

/**
 * Removes files in `dir` left by writers that died (a temp file created but never renamed, a
 * lock holder file): those whose name matches `pattern`, whose first group is the writer's
 * pid, and whose pid is no longer alive.
 */
export function removeDeadWritersFiles(dir: string, pattern: RegExp): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = pattern.exec(n);
    if (m && Number(m[1]) !== process.pid && !isProcessAlive(Number(m[1]))) {
      try {
        unlinkSync(join(dir, n));
      } catch {
        /* already gone */
      }
    }
  }
}
