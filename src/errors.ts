// Typed errors with stable codes; every message says what happened and what to do next.

/** Stable error codes: scripts and clients may match on these, so never rename one. */
export type ErrorCode =
  | "INVALID_INPUT"
  | "NOT_FOUND"
  | "REFERENCE_NOT_FOUND"
  | "REFERENCE_USED"
  | "REFERENCE_EXPIRED"
  | "TTL_OUT_OF_RANGE"
  | "UNKNOWN_PROVIDER"
  | "TOKEN_INVALID"
  | "STORE_CORRUPT"
  | "STORE_LOCKED"
  | "STORE_KEY_INVALID"
  /** The data directory cannot be written (read-only file system, or not writable by this user): reads still work. */
  | "STORE_READ_ONLY"
  /** The data directory belongs to another user or is writable by others: refused, with the fix. */
  | "DATA_DIR_UNSAFE"
  | "KEYCHAIN_LOCKED"
  | "KEYCHAIN_DENIED"
  | "BACKEND_UNAVAILABLE"
  | "IO_ERROR"
  | "POLICY_DENIED"
  | "CONSENT_DECLINED"
  | "CONSENT_UNAVAILABLE"
  | "SECRET_EXPIRED"
  | "COMMAND_FAILED"
  | "CONFIG_INVALID"
  | "CONFIG_CONFLICT"
  | "CLIENT_COMMAND_FAILED"
  | "PROVIDER_NOT_CONFIGURED"
  | "UNSAFE_URL"
  | "REMOTE_UNREACHABLE"
  | "OAUTH_ERROR"
  | "OAUTH_INVALID_RESPONSE"
  | "OAUTH_TIMEOUT"
  | "CALLBACK_PORT_BUSY"
  | "LOGIN_REQUIRED"
  /** An MCP tools/call named a tool this server does not have (the arguments' problems are INVALID_INPUT). */
  | "UNKNOWN_TOOL"
  | "INTERNAL";

/** An error the user can act on. Its message never contains a secret value or a token. */
export class BrokerError extends Error {
  override readonly name = "BrokerError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `e` is a BrokerError, optionally with the given code. */
export function isBrokerError(e: unknown, code?: ErrorCode): e is BrokerError {
  return e instanceof BrokerError && (code === undefined || e.code === code);
}

/**
 * A message safe to show for any thrown value: a BrokerError's own message, else a
 * generic one. Unknown errors may embed inputs (paths, values), so they are not echoed.
 */
export function describeError(e: unknown): string {
  if (e instanceof BrokerError) return e.message;
  // A file-system failure is the environment, not a bug: name the file and the fix.
  const fs = fsFailure(e);
  if (fs) return `Cannot ${fs.verb} ${fs.path}: ${fs.code} (${fs.fix}).`;
  return "Internal error in the broker. Run `mcp-credentials-broker status` and report the issue if it persists.";
}

/** The stable code for any thrown value, matching describeError's message: IO_ERROR for a file-system failure it names, else INTERNAL. */
export function errorCodeOf(e: unknown): ErrorCode {
  if (e instanceof BrokerError) return e.code;
  return fsFailure(e) ? "IO_ERROR" : "INTERNAL";
}

/**
 * What an errno from a file-system call means for the user, and what to do about it
 * (meanings as in POSIX.1-2017, <errno.h> and the open(2)/write(2)/mkdir(2) pages).
 */
const FS_FIXES: Readonly<Record<string, string>> = {
  ENOSPC: "the disk is full: free some space, then retry",
  EDQUOT: "the disk quota is used up: free some space, then retry",
  EFBIG: "the file is larger than the file system allows",
  EROFS: "the file system is read-only: remount it read-write, or set MCB_HOME to a writable directory",
  EACCES: "permission denied: make it readable and writable by you, or set MCB_HOME to a directory you own",
  EPERM: "operation not permitted: make it readable and writable by you, or set MCB_HOME to a directory you own",
  ENOTDIR: "a part of that path is a file, not a directory: move the file aside, or set MCB_HOME to a directory",
  EISDIR: "it is a directory where a file belongs: move that directory aside",
  EEXIST: "something else is in the way there: move it aside",
  ENOENT: "a directory on that path does not exist",
  // open(2) with O_NOFOLLOW: the file is a link (see src/files/data-files.ts).
  ELOOP: "it is a symbolic link, and the broker opens its data files only when they are not (a link could point anywhere): remove the link and check who made it",
  ENAMETOOLONG: "the path is too long: set MCB_HOME to a shorter one",
  EIO: "the disk reported an I/O error: check the disk (e.g. dmesg), then retry",
  EMFILE: "too many open files: raise the limit (ulimit -n) or close other programs",
  ENFILE: "too many open files on the system",
  EBUSY: "the file is busy",
  ETXTBSY: "the file is busy",
};

/** File-system calls whose `path` is a file of ours (never spawn, whose path is a command). */
const FS_CALLS: Readonly<Record<string, string>> = {
  open: "open",
  read: "read",
  write: "write",
  mkdir: "create the directory",
  rename: "rename",
  unlink: "remove",
  link: "create",
  stat: "read",
  lstat: "read",
  fstat: "read",
  ftruncate: "write",
  fsync: "write",
  scandir: "list",
  opendir: "list",
  chmod: "change the mode of",
  fchmod: "change the mode of",
};

/**
 * The parts of a Node file-system error that are safe to show: the call, the path (one of
 * the broker's own files) and the errno with its fix. Null for anything else; the error's
 * own message is never used (it may quote inputs).
 */
export function fsFailure(e: unknown): { verb: string; path: string; code: string; fix: string } | null {
  if (!(e instanceof Error)) return null;
  const { code, syscall, path } = e as NodeJS.ErrnoException;
  if (typeof code !== "string" || typeof syscall !== "string" || typeof path !== "string") return null;
  const verb = FS_CALLS[syscall];
  const fix = FS_FIXES[code];
  return verb && fix ? { verb, path, code, fix } : null;
}

/** The fix for an errno (see FS_FIXES), or a generic one. */
export function fsFix(code: string | undefined): string {
  return (code && FS_FIXES[code]) || "check the data directory (MCB_HOME) and the disk it is on";
}
