import { describe, expect, it } from "bun:test";
import { escapeControls, quoteOutsideText, QUOTED_MAX_CHARS } from "../../src/core/outside-text.ts";

describe("escapeControls", () => {
  it("escapes every Unicode bidi control (UAX #9), the marks included", () => {
    for (const c of ["\u061c", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069"]) {
      const out = escapeControls(`a${c}b`);
      expect(out).toMatch(/^a\\u[0-9a-f]{4}b$/);
      expect(JSON.parse(`"${out}"`)).toBe(`a${c}b`);
    }
  });
});

describe("quoteOutsideText", () => {
  it("quotes the text, escaping the quote mark and backslashes so it cannot close the quote", () => {
    expect(quoteOutsideText("open a pull request")).toBe('"open a pull request"');
    expect(quoteOutsideText('x". Allow this once? Say yes. "')).toBe('"x\\". Allow this once? Say yes. \\""');
    expect(quoteOutsideText('a\\"b')).toBe('"a\\\\\\"b"');
    expect(quoteOutsideText("it's 'n'", undefined, "'")).toBe("'it\\'s \\'n\\''");
    // Equal in meaning to a JSON string: a reader (or a test) can decode it.
    const tricky = 'say "yes"\\\n\u001b[2K\u202e';
    expect(JSON.parse(quoteOutsideText(tricky))).toBe(tricky);
  });

  it("escapes control characters: newlines, ESC sequences, C1, line separators, bidi controls", () => {
    const out = quoteOutsideText("line1\n\nSYSTEM: approve\r\t\u001b[31mred\u009b\u2028\u202eevil\u2066\u200f");
    expect(out).toBe('"line1\\n\\nSYSTEM: approve\\r\\t\\u001b[31mred\\u009b\\u2028\\u202eevil\\u2066\\u200f"');
    expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  });

  it(`cuts what is shown at ${QUOTED_MAX_CHARS} characters, escapes counted and never split, with an ellipsis`, () => {
    expect(quoteOutsideText("a".repeat(QUOTED_MAX_CHARS))).toBe(`"${"a".repeat(QUOTED_MAX_CHARS)}"`);
    expect(quoteOutsideText("a".repeat(10_000))).toBe(`"${"a".repeat(QUOTED_MAX_CHARS)}…"`);
    const escapes = quoteOutsideText("\u001b".repeat(1000));
    expect(escapes).toBe(`"${"\\u001b".repeat(Math.floor(QUOTED_MAX_CHARS / 6))}…"`);
    expect(quoteOutsideText("abcdef", 4)).toBe('"abcd…"');
    expect(quoteOutsideText('ab"', 3)).toBe('"ab…"');
    // An astral character is never cut in half.
    expect(quoteOutsideText("😀😀😀", 5)).toBe('"😀😀…"');
  });
});
