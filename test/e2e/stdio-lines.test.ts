// `serve` and `connect` read stdin through one transport (src/mcp/stdio-transport.ts), so a
// line that is not a JSON-RPC message gets the same answer from both (JSON-RPC 2.0 §5.1:
// -32700 when it is not JSON, -32600 otherwise, with the request's id when one can be read):
// the same lines go to the compiled binary's `serve` and to its `connect` in front of a local
// no-auth MCP server, and the answers are compared.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { startRemoteMcp, type RemoteMcp } from "../fixtures/remote-mcp.ts";
import { jsonLineReader, spawnBroker, tempHome } from "./harness.ts";

/** Lines no client should send; a blank line needs no answer. */
const BAD_LINES: [string, string][] = [
  ["not JSON", "{not json"],
  ["binary garbage", "\u0000\u0001\u0002garbage\u00ff"],
  ["a JSON string (not an object)", '"tools/list"'],
  ["a JSON number", "42"],
  ["JSON null", "null"],
  ["a batch array", '[{"jsonrpc":"2.0","id":9,"method":"tools/list"}]'],
  ["a blank line", "   "],
  ["jsonrpc 1.0", '{"jsonrpc":"1.0","id":10,"method":"tools/list"}'],
  ["params as a string", '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":"get_secret"}'],
  ["a request without method", '{"jsonrpc":"2.0","id":12}'],
  ["a method that is not a string", '{"jsonrpc":"2.0","id":"s13","method":13}'],
  ["an object id", '{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}'],
  ["an oversized line (over 10 MiB)", `{"jsonrpc":"2.0","id":14,"method":"ping","params":{"pad":"${"x".repeat(10 * 1024 * 1024 + 16)}"}}`],
];
/** Answered last (no method: -32600 with this id); everything before it has been answered then. */
const MARKER_ID = 999;
const MARKER = `{"jsonrpc":"2.0","id":${MARKER_ID}}`;

let remote: RemoteMcp;
beforeAll(async () => {
  remote = await startRemoteMcp({ issuer: "http://127.0.0.1:9/unused", noAuth: true });
});
afterAll(() => remote?.stop());

/** Sends every bad line, then the marker, to a broker command; returns each answer in order, and how many requests reached the remote server meanwhile. */
async function answers(args: string[]): Promise<{ got: Record<string, any>[]; relayed: number }> {
  const before = remote.requestHeaders.length;
  const proc = spawnBroker(args, { home: tempHome("mcb-stdio-lines-"), env: { BROWSER: "/bin/false" } });
  const reader = jsonLineReader(proc.stdout);
  // The SDK's own stdio transport dropped bad lines: a missing answer fails here, not by hanging.
  const lines = { next: () => Promise.race([reader.next(), Bun.sleep(15_000).then(() => Promise.reject(new Error(`${args[0] ?? "serve"}: no answer within 15 s`)))]) };
  try {
    for (const [, line] of BAD_LINES) proc.stdin!.write(`${line}\n`);
    proc.stdin!.write(`${MARKER}\n`);
    await proc.stdin!.flush();
    const got: Record<string, any>[] = [];
    for (;;) {
      const m = await lines.next();
      if (m === null) throw new Error(`${args[0] ?? "serve"} closed stdout after ${JSON.stringify(got)}`);
      got.push(m);
      if (m.id === MARKER_ID) break;
    }
    const relayed = remote.requestHeaders.length - before;
    // Still serving: initialize is answered (by the broker, or relayed to the remote server).
    proc.stdin!.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1000, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "stdio-lines", version: "1" } } })}\n`);
    await proc.stdin!.flush();
    for (;;) {
      const m = await lines.next();
      if (m === null) throw new Error(`${args[0] ?? "serve"} closed stdout before answering initialize`);
      if (m.id === 1000) {
        expect(m.result.serverInfo.name).toBeString();
        break;
      }
    }
    return { got, relayed };
  } finally {
    proc.stdin!.end();
    await proc.exited;
  }
}

describe("bad stdin lines: serve and connect answer alike", () => {
  let serve: Record<string, any>[];
  let connect: Record<string, any>[];
  let relayed: number;
  beforeAll(async () => {
    // One after the other: the remote server's request count belongs to connect alone.
    serve = (await answers([])).got;
    ({ got: connect, relayed } = await answers(["connect", remote.url]));
  }, 60_000);

  it("serve answers each bad line once (the blank one not at all), in order, without echoing it", () => {
    expect(serve.map((m) => [m.id, m.error?.code])).toEqual([
      [null, -32700],
      [null, -32700],
      [null, -32600],
      [null, -32600],
      [null, -32600],
      [null, -32600],
      [10, -32600],
      [11, -32600],
      [12, -32600],
      ["s13", -32600],
      [null, -32600],
      [null, -32600],
      [MARKER_ID, -32600],
    ]);
    for (const m of serve) expect(JSON.stringify(m).length).toBeLessThan(400);
  });

  it("connect gives exactly the same answers, and never relays a bad line to the remote server", () => {
    expect(connect).toEqual(serve);
    expect(relayed).toBe(0);
  });
});
