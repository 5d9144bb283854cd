// Shared e2e plumbing: the compiled binary, temp data dirs, an SDK Client over stdio, and an
// argv ledger so the canary test can prove no secret ever reached a process's command line.
import { Client, type ClientOptions } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ReadBuffer, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The compiled binary under test; MCB_TEST_BINARY points elsewhere (e.g. a private build). */
export const BINARY = process.env.MCB_TEST_BINARY
  ? resolve(process.env.MCB_TEST_BINARY)
  : resolve(import.meta.dir, `../../dist/mcp-credentials-broker${process.platform === "win32" ? ".exe" : ""}`);

/** Every argv the e2e suite starts, one JSON line each (read by the canary test). */
export const ARGV_LEDGER = join(tmpdir(), `mcb-e2e-argv-${process.ppid}.jsonl`);

/** Fails loudly when the binary was not built (scripts/test.ts builds it first). */
export function requireBinary(): string {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run \`npm run build\` (npm test does it first).`);
  return BINARY;
}

/** A fresh, empty MCB_HOME. */
export function tempHome(prefix = "mcb-e2e-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * The environment tests give the binary: this process's, minus anything that could configure
 * it by accident — including a D-Bus session, so `auto` never touches the developer's real
 * keychain, and a display, so no approval dialog opens on the developer's screen: tests that
 * want either pass their own in `extra`.
 */
export function brokerEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("MCB_") && k !== "JWT_SECRET" && k !== "DBUS_SESSION_BUS_ADDRESS") env[k] = v;
  // Without the variable, D-Bus clients still find $XDG_RUNTIME_DIR/bus or autolaunch on an X
  // display; an address of an unknown transport reaches no bus at all.
  const busReachable = Boolean(env.DISPLAY) || (env.XDG_RUNTIME_DIR !== undefined && existsSync(join(env.XDG_RUNTIME_DIR, "bus")));
  if (busReachable) env.DBUS_SESSION_BUS_ADDRESS = "disabled:";
  // Nor a display: a `confirm` secret would otherwise open an approval dialog on the
  // developer's desktop. Tests that want one pass their Xvfb's DISPLAY in `extra`.
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  return { ...env, MCB_HOME: home, ...extra };
}

/**
 * The one-line warning a broker prints when `auto` falls back to the file store (no D-Bus
 * session in the tests), with the note that it is said once per data dir (optional: a binary
 * built before the note still matches).
 */
export const FALLBACK_WARNING = /^mcp-credentials-broker: warning: OS keychain unavailable \(.+\); keeping secrets in the file .+secrets\.jsonl instead\..* To fix: .+; or set MCB_STORE=file to choose the file store and silence this warning\.(?: \(Said once for this data dir until the reason changes; `mcp-credentials-broker status` and `doctor` show it\.\))?\n/;

/**
 * stderr without the fallback warning: the e2e brokers run with `auto` and no D-Bus session,
 * so the first process in a data dir prints it, first. Anything else on stderr is left for
 * the test to see.
 */
export function withoutFallbackWarning(stderr: string): string {
  return stderr.replace(FALLBACK_WARNING, "");
}

function recordArgv(argv: string[]): void {
  appendFileSync(ARGV_LEDGER, `${JSON.stringify(argv)}\n`);
}

/** Spawns the binary with Bun.spawn, recording its argv. */
export function spawnBroker(args: string[], opts: { home: string; env?: Record<string, string>; stdin?: "pipe" | "ignore"; cwd?: string }) {
  const argv = [requireBinary(), ...args];
  recordArgv(argv);
  return Bun.spawn(argv, { env: brokerEnv(opts.home, opts.env), stdin: opts.stdin ?? "pipe", stdout: "pipe", stderr: "pipe", cwd: opts.cwd });
}

/** Runs a CLI command to completion; `input` goes to stdin. */
export async function runCli(args: string[], opts: { home: string; env?: Record<string, string>; input?: string; cwd?: string }) {
  const argv = [requireBinary(), ...args];
  recordArgv(argv);
  const p = Bun.spawn(argv, { env: brokerEnv(opts.home, opts.env), stdin: "pipe", stdout: "pipe", stderr: "pipe", cwd: opts.cwd });
  if (opts.input !== undefined) p.stdin.write(opts.input);
  p.stdin.end();
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
}

export interface Connected {
  client: Client;
  transport: StdioClientTransport;
  /** Everything the broker wrote to stderr so far. */
  stderr(): string;
  pid(): number | null;
  close(): Promise<void>;
}

/** Starts the binary (serve) and connects an SDK Client to it over stdio. */
export async function connectBroker(opts: { home: string; env?: Record<string, string>; args?: string[]; clientName?: string; cwd?: string; clientOptions?: ClientOptions; setup?: (client: Client) => void }): Promise<Connected> {
  const command = requireBinary();
  const args = opts.args ?? [];
  recordArgv([command, ...args]);
  const transport = new StdioClientTransport({ command, args, env: brokerEnv(opts.home, opts.env), stderr: "pipe", cwd: opts.cwd });
  let err = "";
  transport.stderr?.on("data", (c: Buffer) => {
    err += c.toString("utf8");
  });
  const client = new Client({ name: opts.clientName ?? "e2e-client", version: "1.0.0" }, opts.clientOptions);
  opts.setup?.(client);
  await client.connect(transport);
  return {
    client,
    transport,
    stderr: () => err,
    pid: () => transport.pid,
    close: () => client.close(),
  };
}

/** Parses the JSON text content of a tool result (the seed's wire format). */
export function body(result: unknown): Record<string, any> {
  const r = result as { content: { type: string; text: string }[] };
  return JSON.parse(r.content[0]!.text);
}

/** Reads a file or "" when missing. */
export function readOr(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

/**
 * An SDK transport over a child process we spawn ourselves, so a test can signal it, read
 * its exit code and see every byte of its stdout. Lines that are not valid JSON-RPC are
 * collected in `invalidLines` (a broken stream shows up there, not as a hang).
 */
class ChildTransport implements Transport {
  readonly #buffer = new ReadBuffer();
  readonly invalidLines: string[] = [];
  rawStdout = "";
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  constructor(readonly child: ChildProcessWithoutNullStreams) {}

  async start(): Promise<void> {
    this.child.stdout.on("data", (chunk: Buffer) => {
      this.rawStdout += chunk.toString("utf8");
      this.#buffer.append(chunk);
      for (;;) {
        let message: JSONRPCMessage | null;
        try {
          message = this.#buffer.readMessage();
        } catch (e) {
          this.invalidLines.push(String(e));
          continue;
        }
        if (!message) break;
        this.onmessage?.(message);
      }
    });
    this.child.once("close", () => this.onclose?.());
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.child.stdin.write(serializeMessage(message));
  }

  async close(): Promise<void> {
    this.child.stdin.end();
  }
}

export interface ConnectedCommand {
  client: Client;
  child: ChildProcessWithoutNullStreams;
  transport: ChildTransport;
  /** Resolves with the exit code, or the signal that ended the process. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** Spawns the binary with `args` (e.g. `run … -- server`), recording its argv, and connects an SDK Client to its stdio. */
export async function connectCommand(args: string[], opts: { home: string; env?: Record<string, string>; clientName?: string; clientOptions?: ClientOptions }): Promise<ConnectedCommand> {
  const argv = [requireBinary(), ...args];
  recordArgv(argv);
  const child = spawn(argv[0]!, argv.slice(1), { env: brokerEnv(opts.home, opts.env), stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  let err = "";
  child.stderr.on("data", (c: Buffer) => {
    err += c.toString("utf8");
  });
  const transport = new ChildTransport(child);
  const client = new Client({ name: opts.clientName ?? "e2e-client", version: "1.0.0" }, opts.clientOptions);
  await client.connect(transport);
  return { client, child, transport, exited, stderr: () => err };
}

/** Reads newline-delimited JSON messages from a process's stdout; `next()` is null at end of stream. */
export function jsonLineReader(stream: ReadableStream<Uint8Array>): { next(): Promise<Record<string, any> | null> } {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  return {
    async next() {
      for (;;) {
        const i = buf.indexOf("\n");
        if (i >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          return JSON.parse(line);
        }
        const { value, done } = await reader.read();
        if (done) return null;
        buf += decoder.decode(value, { stream: true });
      }
    },
  };
}
