import { describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { Masker, MIN_MASK_LENGTH, valueForms } from "../../src/core/mask.ts";

const TOKEN = `ghp_${randomUUID().replaceAll("-", "")}`;
const MARK = "<redacted:TOKEN>";

/** Feeds `chunks` one by one, then flushes; returns everything written. */
function run(masker: Masker, chunks: (string | Buffer)[]): string {
  const out: Buffer[] = chunks.map((c) => masker.push(typeof c === "string" ? Buffer.from(c) : c));
  out.push(masker.flush());
  return Buffer.concat(out).toString("utf8");
}

/** Every way to cut `s` into two pieces, and into single bytes. */
function splits(s: string): Buffer[][] {
  const b = Buffer.from(s);
  const out: Buffer[][] = [];
  for (let i = 0; i <= b.length; i++) out.push([b.subarray(0, i), b.subarray(i)]);
  out.push([...b].map((x) => Buffer.from([x])));
  return out;
}

describe("Masker", () => {
  it("replaces a value in a single chunk, every occurrence", () => {
    const m = new Masker([{ label: "TOKEN", value: TOKEN }]);
    expect(run(m, [`a ${TOKEN} b ${TOKEN}${TOKEN}\n`])).toBe(`a ${MARK} b ${MARK}${MARK}\n`);
  });

  it("masks a value split at every byte position, and byte by byte", () => {
    const line = `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"token ${TOKEN} end"}]}}\n`;
    const want = line.replace(TOKEN, MARK);
    for (const chunks of splits(line)) expect(run(new Masker([{ label: "TOKEN", value: TOKEN }]), chunks)).toBe(want);
  });

  it("returns everything that cannot start a value at once, holding only a possible prefix", () => {
    const m = new Masker([{ label: "TOKEN", value: TOKEN }]);
    expect(m.push(Buffer.from("hello gh")).toString()).toBe("hello ");
    expect(m.pending).toBe(2);
    expect(m.push(Buffer.from("ost")).toString()).toBe("ghost");
    expect(m.pending).toBe(0);
    // Released by flush when nothing more comes (end of stream, or the idle timer in run).
    expect(m.push(Buffer.from(TOKEN.slice(0, 10))).length).toBe(0);
    expect(m.flush().toString()).toBe(TOKEN.slice(0, 10));
  });

  it("never holds back a complete line", () => {
    const m = new Masker([{ label: "TOKEN", value: `\n${TOKEN}` }, { label: "T2", value: `abc\n${TOKEN}` }]);
    for (const line of ["{\"a\":1}\n", "abc\n", "x\n\n"]) {
      expect(m.push(Buffer.from(line)).toString()).toBe(line);
      expect(m.pending).toBe(0);
    }
  });

  it.each([
    ["quotes and backslashes", `CANARY-"quoted"\\back\\slash`],
    ["newline, tab and a control character", `CANARY-line1\nline2\t\u0001end`],
    ["non-ASCII and an astral character", `CANARY-päss-wörd-€-😀`],
    ["HTML-sensitive characters and slashes", `CANARY-<a&b>/c/d`],
  ])("masks a value with %s in JSON, JSON inside JSON, Python and Go encodings — split anywhere — and keeps the JSON valid", (_t, value) => {
    const body = JSON.stringify({ success: true, value });
    const lines = [
      `${JSON.stringify({ jsonrpc: "2.0", id: 7, result: { value } })}\n`,
      `${JSON.stringify({ jsonrpc: "2.0", id: 8, result: { content: [{ type: "text", text: body }], structuredContent: { value } } })}\n`,
    ];
    const python = (s: string) => JSON.stringify(s).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    const go = (s: string) => JSON.stringify(s).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    lines.push(`{"jsonrpc": "2.0", "id": 9, "result": {"value": ${python(value)}}}\n`, `{"jsonrpc":"2.0","id":10,"result":{"value":${go(value)}}}\n`);
    for (const line of lines) {
      for (const chunks of splits(line)) {
        const out = run(new Masker([{ label: "TOKEN", value }]), chunks);
        const parsed = JSON.parse(out);
        const text = JSON.stringify(parsed);
        expect(text).toContain(MARK);
        for (const form of valueForms(value)) expect(out).not.toContain(form);
        expect(text).not.toContain(value);
      }
    }
  });

  it("keeps a JSON escape intact when a value happens to start right after its backslash", () => {
    const value = "nSECRET-1234567";
    // The string is "line\n" + "SECRET-1234567": the raw value matches from the escape's `n`.
    const line = `${JSON.stringify({ text: "line\nSECRET-1234567", u: "\u0001SECRET" })}\n`;
    for (const chunks of splits(line)) {
      const out = run(new Masker([{ label: "TOKEN", value }, { label: "U", value: "u0001SECRET" }]), chunks);
      expect(JSON.parse(out)).toEqual({ text: `line\n${MARK}`, u: "\u0001<redacted:U>" });
    }
  });

  it("counts backslashes across chunks: an escaped backslash does not make an escape", () => {
    const value = "nSECRET-1234567";
    const line = `${JSON.stringify({ text: "dir\\nSECRET-1234567" })}\n`; // a literal backslash, then the value
    for (const chunks of splits(line)) expect(JSON.parse(run(new Masker([{ label: "TOKEN", value }]), chunks))).toEqual({ text: `dir\\${MARK}` });
  });

  it(`leaves values shorter than ${MIN_MASK_LENGTH} characters alone, and passes output through when nothing is masked`, () => {
    const m = new Masker([{ label: "PIN", value: "1234567" }]);
    expect(m.isActive).toBe(false);
    expect(run(m, ['{"id":1234567}\n'])).toBe('{"id":1234567}\n');
  });

  it("masks several secrets, preferring the longer one where they overlap", () => {
    const a = `${TOKEN}-suffix`;
    const m = new Masker([{ label: "SHORT", value: TOKEN }, { label: "LONG", value: a }]);
    expect(run(m, [`${a} ${TOKEN}\n`])).toBe("<redacted:LONG> <redacted:SHORT>\n");
  });

  it("gives the same output however random text with values is cut (fuzz)", () => {
    const values = [TOKEN, `CANARY-${randomUUID()}"\\é`];
    const alphabet = ["a", "g", "h", "\\", '"', "\n", " ", TOKEN.slice(0, 5), TOKEN, values[1]!, JSON.stringify(values[1]).slice(1, -1)];
    for (let round = 0; round < 200; round++) {
      let text = "";
      for (let i = 0; i < 40; i++) text += alphabet[Math.floor(Math.random() * alphabet.length)];
      const whole = run(new Masker(values.map((value, i) => ({ label: `V${i}`, value }))), [text]);
      const b = Buffer.from(text);
      const chunks: Buffer[] = [];
      for (let at = 0; at < b.length; ) {
        const n = 1 + Math.floor(Math.random() * 12);
        chunks.push(b.subarray(at, at + n));
        at += n;
      }
      expect(run(new Masker(values.map((value, i) => ({ label: `V${i}`, value }))), chunks)).toBe(whole);
      expect(whole).not.toContain(TOKEN);
    }
  });
});
