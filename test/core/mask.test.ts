import { describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { maskedLines, Masker, MIN_MASK_LENGTH, valueForms } from "../../src/core/mask.ts";

const TOKEN = `ghp_${randomUUID().replaceAll("-", "")}`;
const MARK = "<redacted:TOKEN>";
/** A PEM-like multi-line value (random body, so nothing here is a real key). */
const PEM = `-----BEGIN PRIVATE KEY-----\n${Array.from({ length: 4 }, () => Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64")).join("\n")}\n-----END PRIVATE KEY-----\n`;
const KEY_MARK = "<redacted:KEY>";

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

  it("never holds back a complete line unless a multi-line value could begin in it", () => {
    const m = new Masker([{ label: "TOKEN", value: `\n${TOKEN}` }, { label: "T2", value: `abc\n${TOKEN}` }]);
    // `\n${TOKEN}` is masked as TOKEN (surrounding white space is not secret), so a newline alone is never held.
    for (const line of ['{"a":1}\n', "x\n\n", `{"id":1,"text":"abc\\n"}\n`]) {
      expect(m.push(Buffer.from(line)).toString()).toBe(line);
      expect(m.pending).toBe(0);
    }
    // A line that ends in the first line of a multi-line value is held until the next read shows whether the value follows.
    expect(m.push(Buffer.from("head abc\n")).toString()).toBe("head ");
    expect(m.pending).toBe(4);
    expect(m.push(Buffer.from(`${TOKEN}\n`)).toString()).toBe("<redacted:T2>\n");
  });

  it("holds back at most a value's length, however long the output", () => {
    const m = new Masker([{ label: "KEY", value: PEM }]);
    const longest = Math.max(...valueForms(PEM.trim()).map((f) => Buffer.byteLength(f)));
    const text = `${"-".repeat(5000)}\n${PEM.slice(0, -40)}`;
    m.push(Buffer.from(text));
    expect(m.pending).toBeLessThan(longest);
    expect(m.pending).toBe(Buffer.byteLength(PEM.slice(0, -40)));
  });

  it("masks a multi-line value (a PEM key) written one line per write, cut at every byte, and with CRLF line ends", () => {
    const want = `key: ${KEY_MARK}\ndone\n`;
    const text = `key: ${PEM}done\n`;
    // One write per line, as a line-buffered logger does it.
    const lines = text.split(/(?<=\n)/);
    expect(lines.length).toBeGreaterThan(4);
    expect(run(new Masker([{ label: "KEY", value: PEM }]), lines)).toBe(want);
    // Every split point into two reads, and byte by byte.
    for (const chunks of splits(text)) expect(run(new Masker([{ label: "KEY", value: PEM }]), chunks)).toBe(want);
    // Every split into three reads around the line breaks.
    const b = Buffer.from(text);
    const breaks = [...b.keys()].filter((i) => b[i] === 0x0a).flatMap((i) => [i, i + 1]);
    for (const i of breaks) for (const j of breaks) if (i < j) expect(run(new Masker([{ label: "KEY", value: PEM }]), [b.subarray(0, i), b.subarray(i, j), b.subarray(j)])).toBe(want);
    // A Windows program in text mode writes CRLF.
    const crlf = text.replaceAll("\n", "\r\n");
    for (const chunks of splits(crlf)) expect(run(new Masker([{ label: "KEY", value: PEM }]), chunks)).toBe(want.replaceAll("\n", "\r\n"));
    // Inside a JSON-RPC line, the value's newlines are escapes.
    const json = `${JSON.stringify({ jsonrpc: "2.0", id: 3, result: { key: PEM } })}\n`;
    for (const chunks of splits(json)) expect(JSON.parse(run(new Masker([{ label: "KEY", value: PEM }]), chunks)).result.key).toBe(`${KEY_MARK}\n`);
  });

  it("masks every line of a multi-line value even when a pause released the lines before it (idle flush between writes)", () => {
    const body = PEM.trim().split("\n").slice(1, -1);
    // One write per line and the idle timer firing after each (run-child.ts flushes after IDLE_FLUSH_MS).
    const m = new Masker([{ label: "KEY", value: PEM }]);
    let out = "";
    for (const line of `key: ${PEM}done\n`.split(/(?<=\n)/)) out += m.push(Buffer.from(line)).toString() + m.flush().toString();
    for (const line of body) expect(out).not.toContain(line.slice(0, 16));
    expect(out).toBe(`key: -----BEGIN PRIVATE KEY-----\n${`${KEY_MARK}\n`.repeat(body.length)}-----END PRIVATE KEY-----\ndone\n`);
    // The same with CRLF line ends, and with each line JSON-escaped on its own (a JSON logger).
    const crlf = new Masker([{ label: "KEY", value: PEM }]);
    out = "";
    for (const line of PEM.replaceAll("\n", "\r\n").split(/(?<=\n)/)) out += crlf.push(Buffer.from(line)).toString() + crlf.flush().toString();
    for (const line of body) expect(out).not.toContain(line.slice(0, 16));
    const json = new Masker([{ label: "KEY", value: PEM }]);
    out = "";
    for (const line of body) out += json.push(Buffer.from(`${JSON.stringify({ msg: line })}\n`)).toString() + json.flush().toString();
    expect(out).toBe(`${JSON.stringify({ msg: KEY_MARK })}\n`.repeat(body.length));
  });

  it("masks a multi-line value's lines of 8 or more characters on their own, but not its PEM boundaries or short lines", () => {
    expect(maskedLines(TOKEN)).toEqual([]);
    expect(maskedLines(PEM)).toEqual(PEM.trim().split("\n").slice(1, -1));
    expect(maskedLines("user=alice\r\n  password=hunter2-long  \nx=1\n\n-----END RSA PRIVATE KEY-----")).toEqual(["user=alice", "password=hunter2-long"]);
    // A boundary must be RFC 7468's exactly; anything else on a line is masked.
    expect(maskedLines("-----BEGIN OPENSSH PRIVATE KEY-----\n-----BEGIN  X-----\n-----BEGIN X--Y-----")).toEqual(["-----BEGIN  X-----", "-----BEGIN X--Y-----"]);
    const m = new Masker([{ label: "KEY", value: "first-line-secret\nsecond-line-secret\nab" }]);
    expect(run(m, ["log: second-line-secret ab first-line-secret\n"])).toBe("log: <redacted:KEY> ab <redacted:KEY>\n");
  });

  it("masks a line of a multi-line value that is itself a secret, with the same result however the output is cut", () => {
    const line = PEM.split("\n")[2]!;
    const secrets = [{ label: "KEY", value: PEM }, { label: "LINE", value: line }];
    const text = `${PEM}${line}\n`;
    const want = `${KEY_MARK}\n<redacted:LINE>\n`;
    for (const chunks of splits(text)) expect(run(new Masker(secrets), chunks)).toBe(want);
    expect(run(new Masker(secrets), text.split(/(?<=\n)/))).toBe(want);
  });

  it("leaves none of a value in clear after a backslash (plain text or a JSON escape), and keeps the JSON valid", () => {
    const value = `uBEEF${TOKEN}`;
    // Plain text, such as a Windows path: `\uBEEF` is not an escape here, and no character of the value may stay.
    for (const chunks of splits(`path\\${value} end\n`)) {
      const out = run(new Masker([{ label: "TOKEN", value }]), chunks);
      expect(out).toBe(`path\\\\${MARK} end\n`);
      expect(out).not.toContain("uBEEF");
    }
    // The same bytes inside a JSON string: the dangling backslash becomes an escaped one.
    for (const chunks of splits(`{"p":"path\\${value}"}\n`)) expect(JSON.parse(run(new Masker([{ label: "TOKEN", value }]), chunks))).toEqual({ p: `path\\${MARK}` });
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

  it("masks a value that starts right after a JSON escape's backslash whole, and keeps the JSON valid", () => {
    const value = "nSECRET-1234567";
    // The string is "line\n" + "SECRET-1234567": the raw value matches from the escape's `n`.
    const line = `${JSON.stringify({ text: "line\nSECRET-1234567", u: "\u0001SECRET" })}\n`;
    for (const chunks of splits(line)) {
      const out = run(new Masker([{ label: "TOKEN", value }, { label: "U", value: "u0001SECRET" }]), chunks);
      expect(JSON.parse(out)).toEqual({ text: `line\\${MARK}`, u: "\\<redacted:U>" });
      expect(out).not.toContain("u0001");
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
    const multi = `LINE-ONE-${randomUUID().slice(0, 8)}\nline-two-${randomUUID().slice(0, 8)}`;
    const values = [TOKEN, `CANARY-${randomUUID()}"\\é`, multi];
    const alphabet = ["a", "g", "h", "\\", '"', "\n", " ", TOKEN.slice(0, 5), TOKEN, values[1]!, JSON.stringify(values[1]).slice(1, -1), multi, multi.split("\n")[0]!, "\n", `${multi.split("\n")[0]!}\n`];
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
      expect(whole).not.toContain(multi);
      // Each line of the multi-line value is masked on its own too.
      for (const line of multi.split("\n")) expect(whole).not.toContain(line);
    }
  });
});
