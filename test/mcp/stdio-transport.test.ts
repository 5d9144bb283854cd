import { describe, expect, it } from "bun:test";
import { PassThrough } from "node:stream";
import { answerForUnreadable, MAX_LINE_BYTES, StdioTransport } from "../../src/mcp/stdio-transport.ts";

describe("answerForUnreadable (JSON-RPC 2.0 §5.1)", () => {
  it.each([
    ["{not json", -32700, null],
    ['"a string"', -32600, null],
    ["[1,2]", -32600, null],
    ['{"jsonrpc":"1.0","id":3,"method":"x"}', -32600, 3],
    ['{"jsonrpc":"2.0","id":"abc","method":5}', -32600, "abc"],
    ['{"jsonrpc":"2.0","id":{"x":1},"method":"m"}', -32600, null],
  ] as const)("%s → %d with id %p", (line, code, id) => {
    expect(answerForUnreadable(line)).toEqual({ jsonrpc: "2.0", id, error: { code, message: expect.any(String) } } as never);
  });

  it("does not answer a blank line", () => {
    expect(answerForUnreadable("   ")).toBeNull();
  });
});

describe("StdioTransport", () => {
  function pair() {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const t = new StdioTransport(stdin, stdout);
    const received: unknown[] = [];
    const written: string[] = [];
    t.onmessage = (m) => received.push(m);
    stdout.on("data", (c: Buffer) => written.push(...c.toString().split("\n").filter(Boolean)));
    return { stdin, t, received, written };
  }

  it("delivers messages split across chunks and answers a bad line between them", async () => {
    const { stdin, t, received, written } = pair();
    await t.start();
    stdin.write('{"jsonrpc":"2.0","id":1,"met');
    stdin.write('hod":"ping"}\n{oops}\n{"jsonrpc":"2.0","method":"notifications/initialized"}\r\n');
    await Bun.sleep(10);
    expect(received).toEqual([{ jsonrpc: "2.0", id: 1, method: "ping" }, { jsonrpc: "2.0", method: "notifications/initialized" }]);
    expect(written.map((w) => JSON.parse(w).error.code)).toEqual([-32700]);
    await t.close();
  });

  it("discards an oversized line with one answer and reads the next message", async () => {
    const { stdin, t, received, written } = pair();
    await t.start();
    const chunk = "x".repeat(1024 * 1024);
    for (let i = 0; i <= MAX_LINE_BYTES / chunk.length; i++) stdin.write(chunk);
    stdin.write('tail of the big line\n{"jsonrpc":"2.0","id":2,"method":"ping"}\n');
    await Bun.sleep(20);
    expect(written).toHaveLength(1);
    expect(JSON.parse(written[0]!).error.code).toBe(-32600);
    expect(received).toEqual([{ jsonrpc: "2.0", id: 2, method: "ping" }]);
    await t.close();
  });

  it("discards an oversized line that arrives whole in one chunk, as when it comes in pieces", async () => {
    const { stdin, t, received, written } = pair();
    await t.start();
    const big = `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"${"x".repeat(MAX_LINE_BYTES)}"}}`;
    stdin.write(`${big}\n{"jsonrpc":"2.0","id":2,"method":"ping"}\n`);
    await Bun.sleep(20);
    expect(written).toHaveLength(1);
    expect(JSON.parse(written[0]!)).toMatchObject({ id: null, error: { code: -32600 } });
    expect(received).toEqual([{ jsonrpc: "2.0", id: 2, method: "ping" }]);
    await t.close();
  });
});
