// `connect <url>`: a stdio MCP server that relays every JSON-RPC message to a remote MCP
// server over Streamable HTTP (or the older HTTP+SSE transport when that is all the server
// speaks), with the token from the remote session. Messages are relayed, not interpreted,
// except the initialize result, whose protocol version the HTTP transport must send on.
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { BrokerError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { StdioTransport } from "../mcp/stdio-transport.ts";
import { fetchFailureMessage } from "../net-errors.ts";
import type { FetchLike } from "../oauth/http.ts";
import { authorizedFetch, NoTokenError } from "./authorized-fetch.ts";
import type { RemoteSession } from "./session.ts";

export interface ConnectOptions {
  session: RemoteSession;
  fetch: FetchLike;
  log: Logger;
  /** Logs in (browser or device), with `scopes` for a step-up, and returns the new token. */
  login(scopes?: string[]): Promise<string | null>;
  /** The client side (stdin/stdout through serve's transport by default; tests pass their own). */
  stdio?: Transport;
}

/** Whether an error means "this server has no Streamable HTTP endpoint here" (MCP spec: backwards compatibility). */
function isLegacyServer(e: unknown): boolean {
  return e instanceof StreamableHTTPError && (e.code === 404 || e.code === 405);
}

/**
 * Why a message could not be delivered, for the client's error and stderr: the origin with an
 * error code or HTTP status — never the server's response body, which may echo anything.
 */
export function failureReason(e: unknown, origin: string): string {
  if (e instanceof NoTokenError) return `${origin} asks for a sign-in and none could be completed; check the messages above and try again.`;
  if (e instanceof BrokerError) return e.message;
  if (e instanceof StreamableHTTPError && typeof e.code === "number" && e.code > 0) return `The remote MCP server ${origin} answered HTTP ${e.code}.`;
  return fetchFailureMessage(e, origin) ?? `The remote MCP server ${origin} could not be reached.`;
}

/** Runs the bridge until either side closes. */
export async function runConnect(opts: ConnectOptions): Promise<void> {
  const { session, log } = opts;
  let loginRun: Promise<string | null> | null = null;
  // One login at a time in this process (requests that arrive meanwhile share it); other
  // processes wait on the login lock.
  const once = (scopes?: string[]) => {
    loginRun ??= opts.login(scopes).finally(() => (loginRun = null));
    return loginRun;
  };
  const fetch = authorizedFetch(session, opts.fetch, { onNoToken: () => once(), onStepUp: (scopes) => once(scopes) });
  // The same stdio transport as `serve`: a line that is not a JSON-RPC message is answered
  // here (-32700 / -32600, JSON-RPC 2.0 §5.1) as serve answers it, not relayed nor dropped.
  const stdio = opts.stdio ?? new StdioTransport();
  let remote: Transport = new StreamableHTTPClientTransport(session.cfg.server, { fetch });
  let legacyTried = false;
  const closed = Promise.withResolvers<void>();

  const wire = (t: Transport) => {
    t.onmessage = (msg) => {
      const result = (msg as { result?: { protocolVersion?: unknown } }).result;
      if (result && typeof result.protocolVersion === "string") t.setProtocolVersion?.(result.protocolVersion);
      void stdio.send(msg).catch(() => {});
    };
    t.onerror = (e) => log.debug(`connect: remote transport: ${e.name}`);
    t.onclose = () => {
      if (t === remote) closed.resolve();
    };
  };

  /** A JSON-RPC error for a request we could not deliver, so the client is not left waiting. */
  const fail = (msg: JSONRPCMessage, message: string) => {
    if ("id" in msg && "method" in msg) void stdio.send({ jsonrpc: "2.0", id: msg.id, error: { code: -32000, message } }).catch(() => {});
  };

  const forward = async (msg: JSONRPCMessage) => {
    try {
      await remote.send(msg);
    } catch (e) {
      if (!legacyTried && isLegacyServer(e)) {
        legacyTried = true;
        log.info("connect: the server does not speak Streamable HTTP; using HTTP+SSE");
        remote = new SSEClientTransport(session.cfg.server, { fetch, eventSourceInit: { fetch } });
        wire(remote);
        await remote.start();
        return forward(msg);
      }
      const why = failureReason(e, session.cfg.server.origin);
      log.warn(`connect: ${why}`);
      fail(msg, why);
    }
  };

  wire(remote);
  stdio.onmessage = (msg: JSONRPCMessage) => void forward(msg);
  stdio.onclose = () => closed.resolve();
  // The stdio transport does not watch for end of input: a client that closes our stdin is
  // gone, and an open remote stream (an SSE GET) must not keep the bridge alive after it.
  if (!opts.stdio) {
    process.stdin.once("end", () => closed.resolve());
    process.stdin.once("close", () => closed.resolve());
  }
  await remote.start();
  await stdio.start();
  await closed.promise;
  await remote.close().catch(() => {});
  await stdio.close().catch(() => {});
}
