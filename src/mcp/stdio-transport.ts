// The stdio transport for serve and connect: the SDK's line framing, but a line that is not a
// valid JSON-RPC message gets an error answer instead of silence (the SDK's transport drops it,
// so a client waits for a reply that never comes). test/e2e/stdio-lines.test.ts holds both
// commands to the same answers.
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
  /** stdout failed (EPIPE: the client stopped reading): nothing more can be delivered. */
  #outClosed = false;
  /** Sends waiting for 'drain', released when stdout fails (a drain would never come). */
  readonly #waiting = new Set<() => void>();

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
      // A whole line can arrive in one chunk (or a few large ones): the limit holds however it came.
      if (nl > MAX_LINE_BYTES) this.#discarded();
      else this.#handleLine(this.#buffer.toString("utf8", 0, nl).replace(/\r$/, ""));
      this.#buffer = this.#buffer.subarray(nl + 1);
    }
    if (this.#buffer.length > MAX_LINE_BYTES) {
      this.#buffer = null;
      this.#skipping = true;
      this.#discarded();
    }
  };

  #discarded(): void {
    void this.send(errorMessage(null, -32600, `Invalid Request: a message longer than ${MAX_LINE_BYTES} bytes was discarded.`));
  }

  readonly #onerror = (error: Error) => this.onerror?.(error);

  /**
   * stdout failed: the client closed its end (EPIPE) or it broke. No answer can reach the
   * client any more, so the session ends as when the client closes stdin (serveStdio stops on
   * stdin's 'close'), rather than reading requests it can never answer or dying on an
   * unhandled 'error' event.
   */
  readonly #onoutputerror = (error: unknown) => {
    if (this.#outClosed) return;
    this.#outClosed = true;
    for (const release of this.#waiting) release();
    this.#waiting.clear();
    const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "error";
    this.onerror?.(new Error(`stdout closed (${code}): the client stopped reading; ending the session`));
    this.stdin.destroy();
  };

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
    // Kept after close(): a write still queued may fail later, and must not crash the process.
    this.stdout.on("error", this.#onoutputerror);
  }

  async close(): Promise<void> {
    this.stdin.off("data", this.#ondata);
    this.stdin.off("error", this.#onerror);
    if (this.stdin.listenerCount("data") === 0) this.stdin.pause();
    this.#buffer = null;
    this.onclose?.();
  }

  /** Writes one message; resolves once stdout takes more (or, stdout being gone, at once: the session is ending). */
  send(message: JSONRPCMessage): Promise<void> {
    if (this.#outClosed) return Promise.resolve();
    return new Promise((resolve) => {
      let ok: boolean;
      try {
        ok = this.stdout.write(`${JSON.stringify(message)}\n`);
      } catch (e) {
        this.#onoutputerror(e);
        return resolve();
      }
      if (ok) return resolve();
      const done = () => {
        this.stdout.off("drain", done);
        this.#waiting.delete(done);
        resolve();
      };
      this.#waiting.add(done);
      this.stdout.once("drain", done);
    });
  }
}
