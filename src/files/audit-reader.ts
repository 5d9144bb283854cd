// Reads the audit log back: lists entries (filtered by time and name) and verifies its hash chain.
import { readDataFile } from "./data-files.ts";
import { basename } from "node:path";
import { z } from "zod";
import { BrokerError } from "../errors.ts";
import { checkAuditMac, GENESIS_PREV, lineHash, type AuditKey } from "../core/audit.ts";
import { auditFiles } from "./audit-log.ts";

/** The fields every chained line has; the rest of an entry is passed through as written. */
const ChainedLineSchema = z.looseObject({
  time: z.string(),
  event: z.string(),
  outcome: z.string(),
  seq: z.number().int().positive(),
  prev: z.string().regex(/^[0-9a-f]{64}$/),
});
export type AuditLine = z.infer<typeof ChainedLineSchema> & { name?: string; purpose?: string; client?: string; error?: string; kid?: unknown; mac?: unknown };

/** Where a line is: the file's base name and its 1-based line number. */
export interface LineRef {
  file: string;
  line: number;
}

/** What the keyed chain proves, line by line (see formatAuditLine). */
export interface KeyedReport {
  /** The id of the store's chain key the macs were checked with; null when none was given (only the structure was checked). */
  kid: string | null;
  /** Lines whose mac was checked under that key: rewriting or extending them needs the key. */
  proven: number;
  /** Lines without a mac before the first keyed one (written before the chain was keyed): hash-chained only. */
  unkeyed: number;
  /** Lines with a mac that was not checked, for want of the key. */
  unchecked: number;
}

export type ChainVerdict =
  | { ok: true; lines: number; files: string[]; head: { seq: number; hash: string } | null; keyed: KeyedReport }
  | { ok: false; lines: number; files: string[]; bad: LineRef & { reason: string }; keyed: KeyedReport };

interface RawLine {
  ref: LineRef;
  bytes: Buffer;
  /** The file ends inside this line (no newline after it). */
  torn: boolean;
}

/** Splits every existing file of the log into lines, oldest first; a torn last line is kept (it fails verification). */
function readLines(path: string): { lines: RawLine[]; files: string[] } {
  const lines: RawLine[] = [];
  const files: string[] = [];
  for (const file of auditFiles(path)) {
    let buf: Buffer;
    try {
      buf = readDataFile(file); // never through a link (data-files.ts)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw e;
    }
    files.push(basename(file));
    let start = 0;
    let n = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(0x0a, start);
      const end = nl < 0 ? buf.length : nl;
      lines.push({ ref: { file: basename(file), line: ++n }, bytes: buf.subarray(start, end), torn: nl < 0 });
      start = end + 1;
    }
  }
  return { lines, files };
}

function parseLine(bytes: Buffer): AuditLine | null {
  try {
    const r = ChainedLineSchema.safeParse(JSON.parse(bytes.toString("utf8")));
    return r.success ? (r.data as AuditLine) : null;
  } catch {
    return null;
  }
}

/**
 * Walks the chain through rotated files in order. Each line's `prev` must be the SHA-256
 * of the line before it (GENESIS_PREV for the first) and its `seq` one more. The first
 * broken link is attributed to a line: an edited line breaks its successor's `prev`; a
 * deleted line leaves a gap in `seq`.
 *
 * With `key` (the store's audit chain key), every line that carries a mac must carry one under
 * that key, and right; once one does, every later line must too. So the lines it proves cannot
 * be rewritten or extended without the key. Lines before the first mac (written by versions
 * without one) are counted as `unkeyed`. Without the key, macs are counted as `unchecked` and
 * only the structure is checked. Either way, removing the *last* lines leaves no trace in the
 * log itself: compare `head` with a value noted earlier.
 */
export function verifyAuditLog(path: string, key?: AuditKey | null): ChainVerdict {
  const { lines, files } = readLines(path);
  const keyed: KeyedReport = { kid: key?.id ?? null, proven: 0, unkeyed: 0, unchecked: 0 };
  const fail = (i: number, reason: string): ChainVerdict => ({ ok: false, lines: lines.length, files, bad: { file: lines[i]!.ref.file, line: lines[i]!.ref.line, reason }, keyed });
  let expectedPrev = GENESIS_PREV;
  let expectedSeq = 1;
  let keyedFrom = -1;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.torn) return fail(i, "incomplete line without a newline (a write was interrupted, or the line was cut)");
    const line = parseLine(raw.bytes);
    if (!line) return fail(i, "not a valid audit line (unreadable JSON or missing time/event/outcome/seq/prev): it was edited");
    if (line.seq > expectedSeq) {
      const missing = line.seq - expectedSeq;
      return fail(i, `${missing} line${missing === 1 ? "" : "s"} before this one ${missing === 1 ? "was" : "were"} deleted (seq jumps from ${expectedSeq - 1} to ${line.seq})`);
    }
    if (line.seq < expectedSeq) return fail(i, `seq ${line.seq} repeats or goes backwards (expected ${expectedSeq}): lines were copied, reordered or edited`);
    const text = raw.bytes.toString("utf8");
    const hasMac = typeof line.mac === "string";
    if (hasMac) {
      if (keyedFrom < 0) keyedFrom = i;
      if (!key) keyed.unchecked++;
      else if (line.kid !== key.id) return fail(i, `its MAC is under another key (kid ${String(line.kid)}) than this store's audit key (kid ${key.id}): it was written by a broker with another store, or forged`);
      else if (checkAuditMac(text, key.key) !== true) return fail(i, "its MAC does not match: the line was altered, or written by something that does not hold the audit key");
      else keyed.proven++;
    } else if (keyedFrom >= 0) {
      return fail(i, "it has no MAC though the lines before it do: it was added or rewritten by something that does not hold the audit key (or by a broker run with --store memory)");
    } else {
      keyed.unkeyed++;
    }
    if (line.prev !== expectedPrev) {
      if (i === 0) return fail(i, "the first line does not start the chain: earlier lines or rotated files are missing");
      // Either the previous line was edited (only this link breaks) or this line's own
      // `prev` was (then the next link breaks too, as this line's hash changed).
      const next = lines[i + 1] ? parseLine(lines[i + 1]!.bytes) : null;
      if (next && next.prev !== lineHash(raw.bytes)) return fail(i, "this line was edited (its prev field and its hash no longer fit the chain)");
      return fail(i - 1, `this line was edited after it was written (its hash no longer matches the prev of the line after it)`);
    }
    expectedPrev = lineHash(raw.bytes);
    expectedSeq = line.seq + 1;
  }
  return { ok: true, lines: lines.length, files, head: lines.length ? { seq: expectedSeq - 1, hash: expectedPrev } : null, keyed };
}

export interface AuditFilter {
  /** Epoch ms: only lines at or after this time. */
  since?: number;
  /** Only lines about this secret name. */
  name?: string;
}

/** Readable lines of the log, oldest first, filtered; unreadable lines are skipped (verify reports them). */
export function readAuditLog(path: string, filter: AuditFilter = {}): AuditLine[] {
  const out: AuditLine[] = [];
  for (const raw of readLines(path).lines) {
    const line = parseLine(raw.bytes);
    if (!line) continue;
    if (filter.since !== undefined && !(Date.parse(line.time) >= filter.since)) continue;
    if (filter.name !== undefined && line.name !== filter.name) continue;
    out.push(line);
  }
  return out;
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `--since`: a duration back from `now` (`90s`, `30m`, `1h`, `7d`, `2w`) or an ISO 8601 time. */
export function parseSince(raw: string, now: number): number {
  const m = /^(\d+)([smhdw])$/.exec(raw.trim());
  if (m) return now - Number(m[1]) * UNIT_MS[m[2]!]!;
  if (/^\d{4}-\d{2}-\d{2}/.test(raw)) {
    const t = Date.parse(raw);
    if (!Number.isNaN(t)) return t;
  }
  throw new BrokerError("INVALID_INPUT", `--since '${raw}' is neither a duration (90s, 30m, 1h, 7d, 2w) nor an ISO time (2026-01-31 or 2026-01-31T12:00:00Z).`);
}
