// Text from outside the broker's own code — secret names, tags, purposes and client names an
// agent chose, lines of a config file — is escaped before a person reads it, in a terminal or
// in the MCP client's consent dialog: an ESC sequence can recolour, move the cursor or rewrite
// earlier rows (ECMA-48 §5.4), a newline or tab can forge a row or a column of `audit` or
// `secret list` (or a line of a dialog), and bidi controls reorder what is shown
// (CVE-2021-42574, "Trojan Source"). `--json` output is JSON.stringify's, already escaped; the
// escapes used here (\n, \r, \t, \uXXXX) are JSON's too, so applying them to a JSON line keeps
// it valid and equal in meaning. Pure functions: the core (the consent question) and the CLI
// share them.

/**
 * C0 controls, DEL, C1 controls (8-bit CSI U+009B and OSC U+009D act like ESC [ and ESC ] in
 * some terminals), the line and paragraph separators, and the Unicode Bidi_Control characters
 * (UAX #9 §2: ALM U+061C, LRM/RLM U+200E–200F, the embeddings and overrides U+202A–202E, the
 * isolates U+2066–2069).
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeOne(c: string): string {
  return NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** One field of outside text (a name, a tag, a purpose): every control character escaped, newlines and tabs included. */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, escapeOne);
}

/**
 * Text the broker composed (lines joined by `\n`, columns by `\t`) around fields that may
 * not be its own: control characters escaped except newline and tab. Fields themselves go
 * through escapeControls first, so a newline or tab inside one cannot forge a row or a column.
 */
export function escapeControlsKeepLines(text: string): string {
  return text.replace(CONTROL, (c) => (c === "\n" || c === "\t" ? c : escapeOne(c)));
}

/** The default cap of quoteOutsideText: enough for a purpose, too little to bury the question. */
export const QUOTED_MAX_CHARS = 200;

/**
 * `text` as a quoted string a reader can tell apart from the sentence around it: in `quote`
 * marks, with backslashes and that quote mark escaped (so the text cannot close the quote
 * and go on as if it were the broker's words), control characters escaped (escapeControls),
 * and cut after `max` characters as shown (escapes counted, never split), with an ellipsis
 * inside the closing quote when it was cut.
 */
export function quoteOutsideText(text: string, max = QUOTED_MAX_CHARS, quote: '"' | "'" = '"'): string {
  let shown = "";
  let length = 0;
  let cut = false;
  for (const c of text) {
    const piece = c === "\\" || c === quote ? `\\${c}` : escapeControls(c);
    if (length + piece.length > max) {
      cut = true;
      break;
    }
    shown += piece;
    length += piece.length;
  }
  return `${quote}${shown}${cut ? "…" : ""}${quote}`;
}
