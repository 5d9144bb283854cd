// The stdio transport for serve: the SDK's line framing, but a line that is not a valid
// JSON-RPC message gets an error answer instead of silence (the SDK's transport drops it,
// so a client waits for a reply that never comes).
import process from "node:process";
import type { Readable, Writable } from "node:stream";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { JSONRPCMessageSchema, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

/** Largest line accepted (the SDK's default): a bigger one is answered and discarded. */
export const MAX_LINE_BYTES = 10 * 1024 * 1024;

/**
 * The JSON-RPC 2.0 §5.1 error for an unreadable line: -32700 when it is not JSON, else
 * -32600 with the request's id when one can be read (null otherwise, as §5 requires).
 * Null for a line that needs no answer (blank).
 */
export function answerForUnreadable(line: string): JSONRPCMessage | null {
  if (line.trim() === "") return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return errorMessage(null, -32700, "Parse error: the line is not JSON. Send one JSON-RPC message per line.");
  }
  const id = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as { id?: unknown }).id : undefined;
  const usableId = typeof id === "string" || (typeof id === "number" && Number.isFinite(id)) ? id : null;
  const what = Array.isArray(parsed) ? "batches are not supported (MCP sends one message per line)" : "not a valid JSON-RPC 2.0 message";
  return errorMessage(usableId, -32600, `Invalid Request: ${what}.`);
}

function errorMessage(id: string | number | null, code: number, message: string): JSONRPCMessage {
  // The SDK's type has no null id, but JSON-RPC 2.0 §5 requires null when the id is unknown.
  return { jsonrpc: "2.0", id: id as string | number, error: { code, message } } as JSONRPCMessage;
}

/** Newline-delimited JSON-RPC over stdin/stdout (MCP stdio transport). */
export class StdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  #buffer: Buffer | null = null;
  #skipping = false;
  #started = false;

  constructor(
    private readonly stdin: Readable = process.stdin,
    private readonly stdout: Writable = process.stdout,
  ) {}

  readonly #ondata = (chunk: Buffer) => {
    if (this.#skipping) {
      // The rest of a discarded, oversized line: drop it up to its newline.
      const nl = chunk.indexOf(0x0a);
      if (nl === -1) return;
      this.#skipping = false;
      chunk = chunk.subarray(nl + 1);
    }
    this.#buffer = this.#buffer ? Buffer.concat([this.#buffer, chunk]) : chunk;
    for (;;) {
      const nl = this.#buffer.indexOf(0x0a);
      if (nl === -1) break;
      const line = this.#buffer.toString("utf8", 0, nl).replace(/\r$/, "");
      this.#buffer = this.#buffer.subarray(nl + 1);
      this.#handleLine(line);
    }
    if (this.#buffer.length > MAX_LINE_BYTES) {
      this.#buffer = null;
      this.#skipping = true;
      void this.send(errorMessage(null, -32600, `Invalid Request: a message longer than ${MAX_LINE_BYTES} bytes was discarded.`));
    }
  };

  readonly #onerror = (error: Error) => this.onerror?.(error);

  #handleLine(line: string): void {
    let message: JSONRPCMessage;
    try {
      message = JSONRPCMessageSchema.parse(JSON.parse(line));
    } catch {
      const answer = answerForUnreadable(line);
      if (answer) void this.send(answer);
      return;
    }
    this.onmessage?.(message);
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error("StdioTransport already started");
    this.#started = true;
    this.stdin.on("data", this.#ondata);
    this.stdin.on("error", this.#onerror);
  }

  async close(): Promise<void> {
    this.stdin.off("data", this.#ondata);
    this.stdin.off("error", this.#onerror);
    if (this.stdin.listenerCount("data") === 0) this.stdin.pause();
    this.#buffer = null;
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(`${JSON.stringify(message)}\n`)) resolve();
      else this.stdout.once("drain", resolve);
    });
  }
}
