// Replaces a file atomically: a crash leaves either the old content or the new, never a mix.
// Used for MCP client configs (src/clients/install.ts), which users edit by hand and which
// must survive power loss too, hence the fsync the secrets log skips (src/store/file.ts).
import { randomBytes } from "node:crypto";
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";

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
