// The stdio MCP server: answers tools/list and tools/call for every tool, over stdin/stdout.
//
// Built on the SDK's low-level `Server` and its public request handlers, so the broker owns
// the tools/call answer (the seed's JSON error shape with a stable code) without touching any
// private member of the SDK: a security tool's input validation must not hang on another
// library's internals, which can change in any release (test/mcp/sdk-public-api.test.ts).
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import {
  ElicitResultSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolRequest,
  type CallToolResult,
  type ListToolsResult,
  type ServerNotification,
  type ServerRequest,
} from "@modelcontextprotocol/sdk/types.js";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Broker } from "../core/broker.ts";
import { BrokerError, describeError, errorCodeOf, type ErrorCode as BrokerErrorCode } from "../errors.ts";
import type { Logger } from "../log.ts";
import { elicitationApprover } from "./consent.ts";
import { StdioTransport } from "./stdio-transport.ts";
import type { ToolDefinition, ToolSession } from "./tool.ts";
import { tools as brokerTools } from "./tools/index.ts";

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
// The shapes differ per tool; the server only hands each its own parsed input.
type AnyTool = ToolDefinition<z.ZodRawShape, z.ZodRawShape>;

/**
 * The seed's error shape: `{ success: false, error, code }` as JSON text, `code` being the
 * BrokerError's stable code (README "Tools": agents branch on it, never on the wording). No
 * structuredContent: the SDK Client validates it against the tool's (success) output schema
 * even on errors.
 */
export function toolError(message: string, code: BrokerErrorCode): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify({ success: false, error: message, code }, null, 2) }], isError: true };
}

function toolResult(body: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(body, null, 2) }], structuredContent: body };
}

/**
 * Messages built from the request echo its inputs (a 1 MB tool name, a 1 MB tag key in a zod
 * path): kept to 1 KB, head and tail, so an answer never carries a megabyte back.
 */
function capped(m: string): string {
  return m.length > 1024 ? `${m.slice(0, 768)} … (truncated) … ${m.slice(-256)}` : m;
}

/** The SDK McpServer's wording of a request problem reported as a tool error: "MCP error -32602: …". */
function invalidParams(m: string): string {
  return new McpError(ErrorCode.InvalidParams, m).message;
}

/**
 * A zod error as the SDK's McpServer worded it ("<message> at <path>", one issue per line),
 * so the messages agents and tests know stay the same.
 */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      if (i.path.length === 0) return i.message;
      const path = i.path.reduce<string>((acc, seg, n) => (n === 0 ? String(seg) : typeof seg === "number" ? `${acc}[${seg}]` : `${acc}.${String(seg)}`), "");
      return `${i.message} at ${path}`;
    })
    .join("\n");
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export interface ServerHandle {
  server: Server;
  /** Resolves when every tool call in flight has finished and its response has been sent. */
  idle(): Promise<void>;
}

/**
 * Builds an MCP server exposing the broker's tools (`tools` is for tests that need a tool of
 * their own). Tool errors never end the session.
 */
export function createMcpServer(broker: Broker, version: string, log: Logger, tools: readonly AnyTool[] = brokerTools as unknown as readonly AnyTool[]): ServerHandle {
  const server = new Server(
    { name: "mcp-credentials-broker", title: "MCP Credentials Broker", version },
    {
      // logging: login progress and the URL to open reach the client as notifications/message
      // (the SDK's Server answers logging/setLevel when this capability is declared).
      // tools.listChanged as the SDK's McpServer declared it: the list never changes, so no
      // notification is ever due, and clients see the same capabilities as before.
      capabilities: { tools: { listChanged: true }, logging: {} },
      instructions:
        "Credentials broker. Never ask the user to paste a secret into the chat. Tool servers wrapped by `mcp-credentials-broker run` already hold their tokens: use their tools directly. Otherwise: list_secrets → get_secret (a single-use reference) → resolve_secret only when the raw value is unavoidable (policy 'confirm' asks the user; 'deny' is refused), and never repeat a value in a reply.",
    },
  );
  const confirm = elicitationApprover(server, log);
  // One zod object per tool, built once: each call's arguments are parsed exactly once, here.
  const byName = new Map(tools.map((t) => [t.name, { tool: t, input: z.object(t.input) }]));

  // tools/list: the JSON Schemas are derived once, on the first list (cold start does not pay
  // for them), by zod's public z.toJSONSchema with the options the SDK's McpServer used
  // (draft-07; the input side of transforms for arguments, the output side for results).
  let listed: ListToolsResult | null = null;
  server.setRequestHandler(ListToolsRequestSchema, () => {
    listed ??= {
      tools: tools.map((t) => ({
        name: t.name,
        title: t.title,
        description: t.description,
        inputSchema: z.toJSONSchema(byName.get(t.name)!.input, { target: "draft-7", io: "input" }) as ListToolsResult["tools"][number]["inputSchema"],
        // MCP 2025-11-25 Tool.execution: these tools answer in the call, never as a task.
        execution: { taskSupport: "forbidden" as const },
        outputSchema: z.toJSONSchema(z.object(t.output), { target: "draft-7", io: "output" }) as ListToolsResult["tools"][number]["outputSchema"],
      })),
    };
    return listed;
  });

  const inFlight = new Set<Promise<unknown>>();
  /**
   * tools/call. What the SDK's McpServer handler did, and what became of it:
   * - unknown tool, invalid arguments: a tool error (isError) with the SDK's wording, now in
   *   the seed's JSON shape with a code (UNKNOWN_TOOL, INVALID_INPUT). Tools are looked up in
   *   a Map, so `__proto__` or `constructor` is simply not found.
   * - an McpError with UrlElicitationRequired (-32042, MCP 2025-11-25 "Elicitation", URL
   *   mode) thrown by a tool passes through as a JSON-RPC error, as the SDK let it; any other
   *   failure is a tool error.
   * - the `enabled` check: every tool here is always enabled.
   * - validating structuredContent against the output schema: dropped, as the results are
   *   built by the typed handlers; the SDK Client validates them against the listed
   *   outputSchema (test/mcp/server.test.ts drives every tool through it).
   *
   * Installed as the Protocol's public `fallbackRequestHandler` (for "any request types that
   * do not have their own handler installed") rather than with setRequestHandler: for
   * tools/call the Server wraps a handler in three more zod parses (the request twice, then
   * the result against CallToolResultSchema) and two awaits, measured at +2 µs a call, +14 %
   * of the MCP layer's time for store → get → resolve in process; here a call is parsed once,
   * by the tool's own schema. What the wrapper checked is checked here: params an object with
   * a string `name` and an object of `arguments` (else JSON-RPC -32602, JSON-RPC 2.0 §5.1).
   * setRequestHandler would also answer malformed params with -32603 Internal error (the
   * Protocol's own parse throws a plain ZodError before the Server's -32602 check runs):
   * test/e2e/bad-input.test.ts pins -32602.
   * A task-augmented call is refused by the Protocol before this runs (no tasks capability).
   * Every other method without a handler is answered as the Protocol answers it: -32601.
   */
  server.fallbackRequestHandler = async (request, extra) => {
    if (request.method !== "tools/call") throw Object.assign(new Error("Method not found"), { code: ErrorCode.MethodNotFound });
    const params = request.params;
    if (!isPlainObject(params) || typeof params.name !== "string" || (params.arguments !== undefined && !isPlainObject(params.arguments))) {
      throw new McpError(ErrorCode.InvalidParams, "Invalid tools/call request: params must be an object with a string `name` and an object of `arguments`.");
    }
    const { name, arguments: args } = params as CallToolRequest["params"];
    const entry = byName.get(name);
    if (!entry) return toolError(capped(invalidParams(`Tool ${name} not found`)), "UNKNOWN_TOOL");
    const parsed = entry.input.safeParse(args ?? {});
    if (!parsed.success) return toolError(capped(invalidParams(`Input validation error: Invalid arguments for tool ${name}: ${describeIssues(parsed.error)}`)), "INVALID_INPUT");
    const run = runTool(entry.tool, parsed.data, extra);
    inFlight.add(run);
    try {
      return await run;
    } finally {
      inFlight.delete(run);
    }
  };

  async function runTool(tool: AnyTool, input: Record<string, unknown>, extra: Extra): Promise<CallToolResult> {
    const client = server.getClientVersion()?.name;
    try {
      return toolResult(await tool.run(input as never, { broker, client, confirm, session: toolSession(server, extra) }));
    } catch (e) {
      if (e instanceof McpError && e.code === ErrorCode.UrlElicitationRequired) throw e;
      if (!(e instanceof BrokerError)) log.error(`tool ${tool.name} failed unexpectedly`, e);
      return toolError(describeError(e), errorCodeOf(e));
    }
  }

  return {
    server,
    idle: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      // The Protocol sends the result in microtasks after the handler settles; closing before that aborts the response.
      await new Promise((r) => setImmediate(r));
    },
  };
}

/** Notifications and URL elicitation for one tool call. Failures to notify never fail the call. */
function toolSession(server: Server, extra: Extra): ToolSession {
  const progressToken = extra._meta?.progressToken;
  let progress = 0;
  const canElicitUrl = server.getClientCapabilities()?.elicitation?.url !== undefined;
  return {
    signal: extra.signal,
    async notify(message) {
      await server.sendLoggingMessage({ level: "notice", logger: "mcp-credentials-broker", data: message }, extra.sessionId).catch(() => {});
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
