// Streaming masker for `run`: replaces injected values in a child's output with `<redacted:VAR>`,
// however the output is cut into reads or paused (a PEM key written one line per write, with
// pauses, included), without breaking line-delimited JSON-RPC.

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
  /** Offsets of the raw newlines in `bytes` (only a multi-line value's raw forms have any). */
  newlines: number[];
  /** A form of one line of a multi-line value (see maskedLines), not of a whole value. */
  line: boolean;
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
 * What is masked of a value: the value without surrounding white space. The secret is the
 * same (a PEM file's final newline, a pasted value's stray space are not secret), its
 * escaped forms are substrings of the full value's, and a value that begins with a newline
 * would otherwise make every line of output a possible start of it.
 */
export function maskedPart(value: string): string {
  return value.trim();
}

/** Whether `value` is masked at all (see MIN_MASK_LENGTH). */
export function isMaskable(value: string): boolean {
  return maskedPart(value).length >= MIN_MASK_LENGTH;
}

/**
 * An RFC 7468 §2 encapsulation boundary (`-----BEGIN PRIVATE KEY-----`; label = labelchar
 * *(["-" / SP] labelchar)): a public label, the same in every key of its kind, so it is not
 * masked on its own line.
 */
const PEM_BOUNDARY = /^-----(BEGIN|END) ([\x21-\x2c\x2e-\x7e]([- ]?[\x21-\x2c\x2e-\x7e])*)?-----$/;

/**
 * The lines of a multi-line value that are masked on their own, besides the whole value:
 * every line of at least MIN_MASK_LENGTH characters (without surrounding white space; a PEM
 * body line is 64 base64 characters) other than a PEM boundary. `run` writes held output
 * once the child pauses (src/cli/run-child.ts, IDLE_FLUSH_MS), so a value printed over
 * several writes with pauses between them never arrives whole; masked line by line, none of
 * its lines is ever printed, whatever was written before it. Empty for a single-line value.
 */
export function maskedLines(value: string): string[] {
  const lines = maskedPart(value).split(/\r\n|\r|\n/);
  if (lines.length < 2) return [];
  return [...new Set(lines.map((l) => l.trim()).filter((l) => l.length >= MIN_MASK_LENGTH && !PEM_BOUNDARY.test(l)))];
}

/**
 * The forms in which `value` can appear in output: raw (for a multi-line value, with LF and
 * with CRLF line ends: a Windows program in text mode writes `\n` as `\r\n`); inside a JSON
 * string as the common encoders write it (JavaScript, Python ensure_ascii, Go HTML-safe,
 * PHP); and escaped twice, as in a tool result whose text is itself JSON (the broker's own
 * results look like that). Tokens made of letters, digits, `-`, `_` and `.` have a single form.
 */
export function valueForms(value: string): string[] {
  const once = [jsonEscape(value), asciiEscape(jsonEscape(value)), htmlEscape(jsonEscape(value)), slashEscape(jsonEscape(value))];
  const twice = once.flatMap((e) => [jsonEscape(e), asciiEscape(jsonEscape(e))]);
  const lineEnds = /[\r\n]/.test(value) ? [value.replace(/\r\n/g, "\n"), value.replace(/\r?\n/g, "\r\n")] : [];
  return [...new Set([value, ...lineEnds, ...once, ...twice])];
}

/**
 * Masks a byte stream. `push` returns at once everything that cannot be the start of a
 * value and holds back only the longest suffix that is a proper prefix of one — at most
 * the longest form's length minus one byte; `flush` releases the held bytes. A prefix may
 * span lines only when a value itself does (a PEM key printed one line per write): the
 * JSON forms of a value hold no raw newline, so a complete JSON-RPC line ending in `\n` is
 * held only when its tail is the first line(s) of a multi-line value. Each line of a
 * multi-line value is also masked on its own (maskedLines): when a pause released the held
 * first lines (flush), the lines that follow are still masked as they arrive.
 *
 * A match preceded by an odd run of backslashes begins inside what may be a JSON escape
 * (`\n`, `\uXXXX`) — or may be plain text such as a Windows path: the whole match is
 * replaced (none of the value stays in clear) and one more backslash is written before the
 * marker, so the dangling backslash becomes an escaped `\\` and a JSON line stays valid.
 */
export class Masker {
  readonly #patterns: Pattern[];
  /**
   * The patterns that start with byte b, longest first, at [b]: the hold search tries only
   * those at each position (a multi-line value's lines add many patterns, whose first bytes
   * are nearly every base64 character).
   */
  readonly #byFirstByte: Pattern[][] = Array.from({ length: 256 }, () => []);
  /** The patterns that hold a raw newline: the only ones a held suffix can span a newline for. */
  readonly #spanning: Pattern[];
  readonly #maxLength: number;
  #held: Buffer = Buffer.alloc(0);
  /** Backslashes at the end of everything returned so far. */
  #trailingBackslashes = 0;

  constructor(secrets: MaskedSecret[]) {
    const patterns: Pattern[] = [];
    const seen = new Set<string>();
    const add = (form: string, marker: Buffer, line: boolean) => {
      const key = `${marker}\0${form}`;
      if (seen.has(key)) return;
      seen.add(key);
      const bytes = Buffer.from(form);
      patterns.push({ bytes, marker, newlines: [...bytes.keys()].filter((i) => bytes[i] === 0x0a), line });
    };
    for (const s of secrets) {
      if (!isMaskable(s.value)) continue;
      const marker = Buffer.from(`<redacted:${s.label.replace(/[^A-Za-z0-9_]/g, "_")}>`);
      for (const form of valueForms(maskedPart(s.value))) add(form, marker, false);
      for (const line of maskedLines(s.value)) for (const form of valueForms(line)) add(form, marker, true);
    }
    // Longest first: at one position the longer form wins (an escaped value over its raw prefix,
    // a whole value over its first line). Of equal length, a whole value's form wins over the
    // same bytes as a line of another value (the line is itself that value's secret). Stable.
    this.#patterns = patterns.sort((a, b) => b.bytes.length - a.bytes.length || Number(a.line) - Number(b.line));
    for (const p of this.#patterns) this.#byFirstByte[p.bytes[0]!]!.push(p);
    this.#spanning = this.#patterns.filter((p) => p.newlines.length > 0);
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
    return this.#scan(this.#held.length ? Buffer.concat([this.#held, chunk]) : Buffer.from(chunk), false);
  }

  /** Releases the held bytes, masked (end of stream, or the stream went idle). */
  flush(): Buffer {
    const rest = this.#held;
    this.#held = Buffer.alloc(0);
    return this.isActive && rest.length ? this.#scan(rest, true) : this.#emit([rest]);
  }

  /**
   * Replaces matches in `buf`, earliest first and the longest at one position — the same
   * choice whatever the chunking: a match is not taken while a pattern that starts at or
   * before it is still arriving (it may turn out longer or earlier). Unless `final`, the
   * bytes from the first such start on are held for the next chunk.
   */
  #scan(buf: Buffer, final: boolean): Buffer {
    const out: Buffer[] = [];
    let pos = 0;
    let hold = -1;
    const next = this.#patterns.map((p) => buf.indexOf(p.bytes, 0));
    for (;;) {
      let best = -1;
      for (let i = 0; i < next.length; i++) {
        if (next[i]! >= 0 && next[i]! < pos) next[i] = buf.indexOf(this.#patterns[i]!.bytes, pos);
        if (next[i]! >= 0 && (best < 0 || next[i]! < next[best]!)) best = i;
      }
      if (best < 0) break;
      const at = next[best]!;
      if (!final) {
        const arriving = this.#holdFrom(buf, pos, at + 1);
        if (arriving <= at) {
          hold = arriving;
          break;
        }
      }
      const p = this.#patterns[best]!;
      const before = buf.subarray(pos, at);
      out.push(before);
      if (this.#isEscaped(before)) out.push(BACKSLASH);
      out.push(p.marker);
      this.#trailingBackslashes = 0;
      pos = at + p.bytes.length;
    }
    if (hold < 0) hold = final ? buf.length : this.#holdFrom(buf, pos, buf.length);
    out.push(buf.subarray(pos, hold));
    this.#held = Buffer.from(buf.subarray(hold));
    return this.#emit(out);
  }

  /** Whether `before` (and what was returned earlier) ends in an odd run of backslashes. */
  #isEscaped(before: Buffer): boolean {
    let run = 0;
    for (let i = before.length - 1; i >= 0 && before[i] === 0x5c; i--) run++;
    if (run === before.length) run += this.#trailingBackslashes;
    return run % 2 === 1;
  }

  /**
   * The first start s in [from, until) whose suffix buf[s..] is a proper prefix of a pattern
   * (the longest such suffix); buf.length when there is none. A newline does not end the
   * search — a value may span lines, and its first line can arrive in a read of its own —
   * but a suffix that holds the last newline can only be the start of a pattern with a
   * newline at that offset, so those few candidates are tried directly and ordinary output
   * costs no more than with single-line values.
   */
  #holdFrom(buf: Buffer, from: number, until: number): number {
    const end = buf.length;
    const afterNewline = buf.lastIndexOf(0x0a) + 1;
    let spanning = end;
    for (const p of this.#spanning) {
      for (const k of p.newlines) {
        const s = afterNewline - 1 - k;
        if (s < from || s >= until || s >= spanning || end - s >= p.bytes.length || buf[s] !== p.bytes[0]) continue;
        if (buf.compare(p.bytes, 0, end - s, s, end) === 0) spanning = s;
      }
    }
    if (spanning < end) return spanning;
    for (let s = Math.max(from, afterNewline, end - this.#maxLength + 1); s < until; s++) {
      const n = end - s;
      for (const p of this.#byFirstByte[buf[s]!]!) {
        if (p.bytes.length <= n) break; // longest first: the rest are too short to be still arriving
        if (buf.compare(p.bytes, 0, n, s, end) === 0) return s;
      }
    }
    return end;
  }

  #emit(parts: Buffer[]): Buffer {
    const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    let run = 0;
    for (let i = out.length - 1; i >= 0 && out[i] === 0x5c; i--) run++;
    this.#trailingBackslashes = run === out.length ? this.#trailingBackslashes + run : run;
    return out;
  }
}

/** Written before a marker whose match followed an odd backslash: `\` + `\` is an escaped backslash. */
const BACKSLASH = Buffer.from("\\");
