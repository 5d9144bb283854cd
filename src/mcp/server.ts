// The stdio MCP server: registers every tool on an McpServer and serves it over stdin/stdout.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ElicitResultSchema, ErrorCode, McpError, type CallToolResult, type JSONRPCRequest, type ServerNotification, type ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import { getParseErrorMessage } from "@modelcontextprotocol/sdk/server/zod-compat.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import { randomUUID } from "node:crypto";
import type { Broker } from "../core/broker.ts";
import { BrokerError, describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { elicitationApprover } from "./consent.ts";
import type { ToolSession } from "./tool.ts";
import { StdioTransport } from "./stdio-transport.ts";
import { tools } from "./tools/index.ts";

/**
 * The seed's error shape: `{ success: false, error }` as JSON text. No structuredContent:
 * the SDK Client validates it against the tool's (success) output schema even on errors.
 */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify({ success: false, error: message }, null, 2) }], isError: true };
}

function toolResult(body: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(body, null, 2) }], structuredContent: body };
}

export interface ServerHandle {
  server: McpServer;
  /** Resolves when every tool call in flight has finished and its response has been sent. */
  idle(): Promise<void>;
}

/** Builds an McpServer exposing the broker's tools. Tool errors never end the session. */
export function createMcpServer(broker: Broker, version: string, log: Logger): ServerHandle {
  const server = new McpServer(
    { name: "mcp-credentials-broker", title: "MCP Credentials Broker", version },
    {
      // logging: login progress and the URL to open reach the client as notifications/message.
      capabilities: { tools: {}, logging: {} },
      instructions:
        "Credentials broker. Never ask the user to paste a secret into the chat. Tool servers wrapped by `mcp-credentials-broker run` already hold their tokens: use their tools directly. Otherwise: list_secrets → get_secret (a single-use reference) → resolve_secret only when the raw value is unavoidable (policy 'confirm' asks the user; 'deny' is refused), and never repeat a value in a reply.",
    },
  );
  // The SDK reports unknown tools and schema violations as plain text through this
  // private hook; the seed's contract is a JSON `{ success: false, error }` body, so
  // every error, ours or the SDK's, has that one shape. The SDK's messages echo inputs (a
  // 1 MB tool name, a 1 MB tag key in a zod path), so they are capped (head and tail kept).
  (server as unknown as { createToolError: (m: string) => CallToolResult }).createToolError = (m) => toolError(m.length > 1024 ? `${m.slice(0, 768)} … (truncated) … ${m.slice(-256)}` : m);

  const inFlight = new Set<Promise<unknown>>();
  const confirm = elicitationApprover(server.server, log);
  const handlers = new Map<string, ToolHandler>();
  for (const tool of tools) {
    const handler: ToolHandler = async (input, extra) => {
      const client = server.server.getClientVersion()?.name;
      const session = toolSession(server, extra);
      const run = (async () => {
        try {
          return toolResult(await tool.run(input, { broker, client, confirm, session }));
        } catch (e) {
          if (!(e instanceof BrokerError)) log.error(`tool ${tool.name} failed unexpectedly`, e);
          return toolError(describeError(e));
        }
      })();
      inFlight.add(run);
      try {
        return await run;
      } finally {
        inFlight.delete(run);
      }
    };
    handlers.set(tool.name, handler);
    // Registered with the SDK for tools/list (names, descriptions, JSON schemas).
    server.registerTool(tool.name, { title: tool.title, description: tool.description, inputSchema: tool.input, outputSchema: tool.output }, handler as never);
  }
  handleToolCalls(server, handlers);
  return {
    server,
    idle: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      // The SDK validates the result and sends it in microtasks after the handler settles; closing before that aborts the response.
      await new Promise((r) => setImmediate(r));
    },
  };
}

type ToolHandler = (input: never, extra: RequestHandlerExtra<ServerRequest, ServerNotification>) => Promise<CallToolResult>;

/**
 * Answers tools/call with the tools' own input schemas and handlers, in place of the SDK's
 * chain, which parses each call six times with zod (the JSON-RPC envelope, the request
 * twice, the arguments, the structured output, and the whole result against every content
 * type) and awaits between each: ≈20 µs of a ≈25 µs call here. What stays: the arguments
 * are validated against the tool's schema exactly as the SDK registered it, errors keep the
 * SDK's wording and the seed's `{ success: false, error }` shape. What goes: re-validating
 * results we build ourselves (the client validates structuredContent against outputSchema).
 */
function handleToolCalls(server: McpServer, handlers: Map<string, ToolHandler>): void {
  const registered = (server as unknown as { _registeredTools: Record<string, { inputSchema?: { safeParse(v: unknown): { success: boolean; data?: unknown; error?: unknown } } }> })._registeredTools;
  const toolError = (server as unknown as { createToolError: (m: string) => CallToolResult }).createToolError;
  const requestHandlers = (server.server as unknown as { _requestHandlers: Map<string, (request: JSONRPCRequest, extra: RequestHandlerExtra<ServerRequest, ServerNotification>) => Promise<unknown>> })._requestHandlers;
  requestHandlers.set("tools/call", async (request, extra) => {
    const params = request.params as { name?: unknown; arguments?: unknown } | undefined;
    // What CallToolRequestSchema checked: an object with a string name and an object of arguments.
    if (!isPlainObject(params) || typeof params.name !== "string" || (params.arguments !== undefined && !isPlainObject(params.arguments))) {
      throw new McpError(ErrorCode.InvalidParams, "Invalid tools/call request: params must be an object with a string `name` and an object of `arguments`.");
    }
    const name = params.name;
    const handler = Object.hasOwn(registered, name) ? handlers.get(name) : undefined;
    if (!handler) return toolError(new McpError(ErrorCode.InvalidParams, `Tool ${name} not found`).message);
    const parsed = registered[name]!.inputSchema!.safeParse(params.arguments ?? {});
    if (!parsed.success) {
      return toolError(new McpError(ErrorCode.InvalidParams, `Input validation error: Invalid arguments for tool ${name}: ${getParseErrorMessage(parsed.error)}`).message);
    }
    return handler(parsed.data as never, extra);
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Notifications and URL elicitation for one tool call. Failures to notify never fail the call. */
function toolSession(server: McpServer, extra: RequestHandlerExtra<ServerRequest, ServerNotification>): ToolSession {
  const progressToken = extra._meta?.progressToken;
  let progress = 0;
  const canElicitUrl = server.server.getClientCapabilities()?.elicitation?.url !== undefined;
  return {
    signal: extra.signal,
    async notify(message) {
      await server.server.sendLoggingMessage({ level: "notice", logger: "mcp-credentials-broker", data: message }, extra.sessionId).catch(() => {});
      if (progressToken !== undefined) {
        await extra.sendNotification({ method: "notifications/progress", params: { progressToken, progress: ++progress, message } }).catch(() => {});
      }
    },
    elicitUrl: canElicitUrl
      ? async (url, message) => {
          const r = await extra.sendRequest({ method: "elicitation/create", params: { mode: "url", message, url, elicitationId: randomUUID() } }, ElicitResultSchema, { timeout: 10 * 60_000 });
          return r.action === "accept";
        }
      : null,
  };
}

/**
 * Serves over stdio until stdin closes or SIGTERM/SIGINT/SIGHUP arrives, then lets calls
 * in flight finish (bounded), closes the broker (store and audit log) and resolves.
 */
export async function serveStdio(broker: Broker, version: string, log: Logger): Promise<void> {
  const handle = createMcpServer(broker, version, log);
  const transport = new StdioTransport();
  let stopping: Promise<void> | null = null;
  const done = Promise.withResolvers<void>();
  const stop = (why: string) => {
    stopping ??= (async () => {
      log.debug(`stopping: ${why}`);
      await Promise.race([handle.idle(), new Promise((r) => setTimeout(r, 2_000))]);
      await handle.server.close().catch(() => {});
      await broker.close();
      done.resolve();
    })();
    return stopping;
  };
  // The original kept running after its client was gone; we stop when stdin ends.
  process.stdin.once("end", () => void stop("stdin closed"));
  process.stdin.once("close", () => void stop("stdin closed"));
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.once(sig, () => void stop(sig));
  transport.onerror = (e) => log.debug(`transport: ${e instanceof Error ? e.message : String(e)}`);
  await handle.server.connect(transport);
  await done.promise;
}
