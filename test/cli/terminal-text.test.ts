import { describe, expect, it } from "bun:test";
import { describeLine } from "../../src/cli/audit.ts";
import { terminalLines, terminalText } from "../../src/cli/terminal-text.ts";

/** Every code point the helpers must escape: C0, DEL, C1, the line/paragraph separators, bidi marks, embeddings, overrides and isolates. */
const CONTROLS = [
  ...Array.from({ length: 0x20 }, (_, i) => i),
  0x7f,
  ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i),
  0x2028,
  0x2029,
  ...[0x061c, 0x200e, 0x200f],
  ...[0x202a, 0x202b, 0x202c, 0x202d, 0x202e],
  ...[0x2066, 0x2067, 0x2068, 0x2069],
].map((c) => String.fromCharCode(c));

describe("terminalText", () => {
  it("escapes every control character, newline and tab included, as JSON escapes", () => {
    for (const c of CONTROLS) {
      const out = terminalText(`a${c}b`);
      expect(out).toMatch(/^a\\(n|r|t|u[0-9a-f]{4})b$/);
      expect(JSON.parse(`"${out}"`)).toBe(`a${c}b`);
    }
    expect(terminalText("\u001b[2J\n\t\r")).toBe("\\u001b[2J\\n\\t\\r");
    expect(terminalText("\u202e\u2066\u009b")).toBe("\\u202e\\u2066\\u009b");
  });

  it("leaves printable text alone: non-ASCII, emoji, backslashes, a Windows path", () => {
    for (const s of ["päss-wörd €", "😀 ok", "C:\\Users\\me\\data", "\u200b\u00a0zero-width and nbsp", "عربى"]) expect(terminalText(s)).toBe(s);
  });
});

describe("terminalLines", () => {
  it("keeps the newlines and tabs a line was composed with, escapes the rest", () => {
    expect(terminalLines("a\tb\nc\u001b[31m\u202ed\r")).toBe("a\tb\nc\\u001b[31m\\u202ed\\r");
  });

  it("keeps JSON valid and equal in meaning", () => {
    const v = { name: "x\u009b\u202e\u2028y\u007f", n: 1 };
    const text = terminalLines(JSON.stringify(v, null, 2));
    expect(text).not.toMatch(/[\u007f-\u009f\u2028\u202e]/);
    expect(JSON.parse(text)).toEqual(v);
  });
});

describe("audit rows", () => {
  it("escape every field, so an agent's name, client or purpose cannot add a row or a column", () => {
    const row = describeLine({ time: "2026-01-01T00:00:00.000Z", event: "get", outcome: "ok", name: "n\u202e", client: "c\n2099\tresolve", purpose: "p\u001b[2K\u0085" } as never);
    expect(row.split("\n")).toHaveLength(1);
    expect(row.split("\t")).toEqual(["2026-01-01T00:00:00.000Z", "get", "ok", "n\\u202e", "c\\n2099\\tresolve", '"p\\u001b[2K\\u0085"']);
  });
});
