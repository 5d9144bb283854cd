// Opening the broker's own files in its data dir without following a symbolic link, and
// refusing a data dir that other users could write: what keeps a planted link or file from
// turning the broker's reads and writes against the user.
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, statSync } from "node:fs";
import { BrokerError } from "../errors.ts";

/** How a data file is opened: read, append (creating it), or create it new (O_EXCL). */
export type DataFileMode = "r" | "a" | "a+" | "ax" | "wx";

const BASE: Record<DataFileMode, number> = {
  r: constants.O_RDONLY,
  a: constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT,
  "a+": constants.O_RDWR | constants.O_APPEND | constants.O_CREAT,
  ax: constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL,
  wx: constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
};

/** O_NOFOLLOW where the platform has it (POSIX.1-2008 open(); Windows has none). */
const NOFOLLOW: number | undefined = (constants as Record<string, number | undefined>).O_NOFOLLOW;

function linkError(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${path} is a symbolic link`), { code: "ELOOP", syscall: "open", path });
}

/**
 * Opens `path`, a file of the data dir, never through a symbolic link. With O_NOFOLLOW, open(2)
 * fails with ELOOP when the last component is a link (POSIX.1-2008; FreeBSD says EMLINK). On
 * Windows, which has no O_NOFOLLOW, the path is lstat'ed first and the opened file must be the
 * one lstat saw (same device and file index), so a link swapped in between is refused too.
 * O_EXCL creates (`ax`, `wx`) never follow a link anyway (open(2): O_CREAT|O_EXCL fails on
 * one). Throws the file-system error (ELOOP for a link) for the caller to name. `nofollow`
 * undefined takes the Windows path (tests run it on Linux too).
 */
export function openDataFile(path: string, mode: DataFileMode, perm = 0o600, nofollow: number | undefined = NOFOLLOW): number {
  const exclusive = mode === "ax" || mode === "wx";
  if (nofollow !== undefined || exclusive) {
    try {
      return openSync(path, BASE[mode] | (exclusive ? 0 : (nofollow ?? 0)), perm);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EMLINK") throw linkError(path);
      throw e;
    }
  }
  let before: ReturnType<typeof lstatSync> | null = null;
  try {
    before = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT" || mode === "r") throw e;
  }
  if (before?.isSymbolicLink()) throw linkError(path);
  const fd = openSync(path, BASE[mode], perm);
  const after = fstatSync(fd);
  if (before ? after.ino !== before.ino || after.dev !== before.dev : lstatSync(path).isSymbolicLink()) {
    closeSync(fd);
    throw linkError(path);
  }
  return fd;
}

/** The whole content of a data file, read without following a link (see openDataFile). */
export function readDataFile(path: string): Buffer;
export function readDataFile(path: string, encoding: "utf8"): string;
export function readDataFile(path: string, encoding?: "utf8"): Buffer | string {
  const fd = openDataFile(path, "r");
  try {
    return encoding ? readFileSync(fd, encoding) : readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Refuses a data dir that is not private to this user: owned by another user, or writable by
 * group or others (mode & 022). Whoever can write it can plant the files the broker reads
 * (secrets.jsonl, a config) or the links it would write through. A dir that does not exist
 * yet passes: the broker creates it 0700. POSIX only: on Windows, access is governed by ACLs,
 * and stat reports neither an owner (uid 0) nor group/other bits (modes are synthesized from
 * the read-only attribute), so this check would say nothing true there.
 */
export function assertPrivateDataDir(dir: string, platform: string, uid: number | undefined): void {
  if (platform === "win32" || uid === undefined) return;
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dir);
  } catch {
    return; // missing: created 0700; anything else is reported when it is used
  }
  if (!st.isDirectory()) return; // reported as "a file is in the way" when it is used
  const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
  if (st.uid !== uid) {
    throw new BrokerError(
      "DATA_DIR_UNSAFE",
      `The data directory ${dir} belongs to uid ${st.uid}, not to you (uid ${uid}): whoever owns it can replace the files the broker reads and writes. Use a data directory of your own (set MCB_HOME), or, if it is yours, run: chown -R ${uid} ${dir}`,
    );
  }
  if (st.mode & 0o022) {
    throw new BrokerError(
      "DATA_DIR_UNSAFE",
      `The data directory ${dir} is writable by other users (mode ${mode}): they could plant files the broker reads or links it writes through. Run: chmod 700 ${dir}`,
    );
  }
}
