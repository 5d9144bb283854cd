// Streaming masker for `run`: replaces injected values in a child's output with `<redacted:VAR>`,
// also when a value arrives split across reads, without breaking line-delimited JSON-RPC.

/** Shorter values are not masked: replacing every "true" or "1234" would mangle ordinary output. */
export const MIN_MASK_LENGTH = 8;

export interface MaskedSecret {
  /** Shown in the marker: the environment variable name (only [A-Za-z0-9_], so the marker is safe inside a JSON string). */
  label: string;
  value: string;
}

interface Pattern {
  bytes: Buffer;
  marker: Buffer;
}

/** JSON string escaping as JSON.stringify does it (quotes, backslashes, control characters). */
function jsonEscape(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

/** Python's json.dumps default (ensure_ascii): every non-ASCII UTF-16 unit as a lower-case \uXXXX. */
function asciiEscape(escaped: string): string {
  return escaped.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Go's encoding/json default (HTML-safe): <, >, & and U+2028/U+2029 as \uXXXX. */
function htmlEscape(escaped: string): string {
  return escaped.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** PHP's json_encode default: "/" as "\/". */
function slashEscape(escaped: string): string {
  return escaped.replace(/\//g, "\\/");
}

/**
 * The forms in which `value` can appear in output: raw; inside a JSON string as the common
 * encoders write it (JavaScript, Python ensure_ascii, Go HTML-safe, PHP); and escaped twice,
 * as in a tool result whose text is itself JSON (the broker's own results look like that).
 * Tokens made of letters, digits, `-`, `_` and `.` have a single form.
 */
export function valueForms(value: string): string[] {
  const once = [jsonEscape(value), asciiEscape(jsonEscape(value)), htmlEscape(jsonEscape(value)), slashEscape(jsonEscape(value))];
  const twice = once.flatMap((e) => [jsonEscape(e), asciiEscape(jsonEscape(e))]);
  return [...new Set([value, ...once, ...twice])];
}

/**
 * Masks a byte stream. `push` returns at once everything that cannot be the start of a
 * value and holds back only a suffix that is a proper prefix of one (never past a
 * newline, so a complete JSON-RPC line is never delayed); `flush` releases the held bytes.
 *
 * A match preceded by an odd run of backslashes begins inside a JSON escape (`\n`, `\u…`):
 * its first character (five for `\uXXXX`) stays, so the line remains valid JSON.
 */
export class Masker {
  readonly #patterns: Pattern[];
  readonly #firstBytes: Set<number>;
  readonly #maxLength: number;
  #held: Buffer = Buffer.alloc(0);
  /** Backslashes at the end of everything returned so far. */
  #trailingBackslashes = 0;

  constructor(secrets: MaskedSecret[]) {
    const patterns: Pattern[] = [];
    for (const s of secrets) {
      if (s.value.length < MIN_MASK_LENGTH) continue;
      const marker = Buffer.from(`<redacted:${s.label.replace(/[^A-Za-z0-9_]/g, "_")}>`);
      for (const form of valueForms(s.value)) patterns.push({ bytes: Buffer.from(form), marker });
    }
    // Longest first: at one position the longer form wins (an escaped value over its raw prefix).
    this.#patterns = patterns.sort((a, b) => b.bytes.length - a.bytes.length);
    this.#firstBytes = new Set(this.#patterns.map((p) => p.bytes[0]!));
    this.#maxLength = this.#patterns[0]?.bytes.length ?? 0;
  }

  /** Whether anything is masked at all (no value long enough → output passes through). */
  get isActive(): boolean {
    return this.#patterns.length > 0;
  }

  /** Bytes held back as a possible start of a value. */
  get pending(): number {
    return this.#held.length;
  }

  /** Feeds a chunk; returns the bytes that are safe to write now (possibly empty). */
  push(chunk: Uint8Array): Buffer {
    if (!this.isActive) return this.#emit([Buffer.from(chunk)]);
    const buf = this.#held.length ? Buffer.concat([this.#held, chunk]) : Buffer.from(chunk);
    const out: Buffer[] = [];
    let pos = 0;
    const next = this.#patterns.map((p) => buf.indexOf(p.bytes, 0));
    for (;;) {
      let best = -1;
      for (let i = 0; i < next.length; i++) {
        if (next[i]! >= 0 && next[i]! < pos) next[i] = buf.indexOf(this.#patterns[i]!.bytes, pos);
        if (next[i]! >= 0 && (best < 0 || next[i]! < next[best]!)) best = i;
      }
      if (best < 0) break;
      const at = next[best]!;
      const p = this.#patterns[best]!;
      const before = buf.subarray(pos, at);
      const keep = this.#isEscaped(before) ? escapeLength(buf, at, p.bytes.length) : 0;
      out.push(before, buf.subarray(at, at + keep), p.marker);
      this.#trailingBackslashes = 0;
      pos = at + p.bytes.length;
    }
    const hold = this.#holdFrom(buf, pos);
    out.push(buf.subarray(pos, hold));
    this.#held = Buffer.from(buf.subarray(hold));
    return this.#emit(out);
  }

  /** Releases the held bytes (end of stream, or the stream went idle). */
  flush(): Buffer {
    const rest = this.#held;
    this.#held = Buffer.alloc(0);
    return this.#emit([rest]);
  }

  /** Whether `before` (and what was returned earlier) ends in an odd run of backslashes. */
  #isEscaped(before: Buffer): boolean {
    let run = 0;
    for (let i = before.length - 1; i >= 0 && before[i] === 0x5c; i--) run++;
    if (run === before.length) run += this.#trailingBackslashes;
    return run % 2 === 1;
  }

  /**
   * The start of the longest suffix of buf[from..] that is a proper prefix of a pattern
   * and holds no newline; buf.length when there is none.
   */
  #holdFrom(buf: Buffer, from: number): number {
    const nl = buf.lastIndexOf(0x0a);
    const start = Math.max(from, nl + 1, buf.length - this.#maxLength + 1);
    for (let s = start; s < buf.length; s++) {
      if (!this.#firstBytes.has(buf[s]!)) continue;
      const tail = buf.subarray(s);
      for (const p of this.#patterns) {
        if (p.bytes.length > tail.length && p.bytes.subarray(0, tail.length).equals(tail)) return s;
      }
    }
    return buf.length;
  }

  #emit(parts: Buffer[]): Buffer {
    const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    let run = 0;
    for (let i = out.length - 1; i >= 0 && out[i] === 0x5c; i--) run++;
    this.#trailingBackslashes = run === out.length ? this.#trailingBackslashes + run : run;
    return out;
  }
}

/** How much of a match that begins inside a JSON escape must stay: `uXXXX` or one character. */
function escapeLength(buf: Buffer, at: number, length: number): number {
  const isUnicodeEscape = buf[at] === 0x75 && /^[0-9a-fA-F]{4}$/.test(buf.toString("latin1", at + 1, at + 5));
  return Math.min(isUnicodeEscape ? 5 : 1, length);
}
