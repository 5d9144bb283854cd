// Text from outside the broker's own code — secret names, tags, purposes and client names an
// agent chose, lines of a config file — is escaped before it reaches a terminal: an ESC
// sequence can recolour, move the cursor or rewrite earlier rows (ECMA-48 §5.4), a newline or
// tab can forge a row or a column of `audit` or `secret list`, and bidi overrides reorder what
// is shown (CVE-2021-42574, "Trojan Source"). `--json` output is JSON.stringify's, already
// escaped; the escapes used here (\n, \r, \t, \uXXXX) are JSON's too, so applying them to a
// JSON line keeps it valid and equal in meaning.

/**
 * C0 controls, DEL, C1 controls (8-bit CSI U+009B and OSC U+009D act like ESC [ and ESC ] in
 * some terminals), the line and paragraph separators, and the bidi embeddings, overrides and
 * isolates (U+202A–202E, U+2066–2069).
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeOne(c: string): string {
  return NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** One field of human output (a name, a tag, a purpose): every control character escaped, newlines and tabs included. */
export function terminalText(text: string): string {
  return text.replace(CONTROL, escapeOne);
}

/**
 * Text the broker composed (lines joined by `\n`, columns by `\t`) around fields that may
 * not be its own: control characters escaped except newline and tab. Fields themselves go
 * through terminalText first, so a newline or tab inside one cannot forge a row or a column.
 */
export function terminalLines(text: string): string {
  return text.replace(CONTROL, (c) => (c === "\n" || c === "\t" ? c : escapeOne(c)));
}
