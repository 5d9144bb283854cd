// An MCP server for the conformance suite's SERVER scenarios (`conformance server --url`): the
// SDK's low-level Server over its web-standard Streamable HTTP transport on Bun.serve,
// 127.0.0.1 only, stateful sessions with an event store (resumable SSE, retry field), and the
// tools, resources and prompts the scenarios name (their descriptions in the suite's
// src/scenarios/server/*.ts are the spec). It checks Host and Origin like any local server must
// (DNS rebinding). No auth: through `proxy` it needs no sign-in.
//
//   bun test/conformance/everything-server.ts [--port N]   → prints "listening <url>" on stdout
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { type EventStore, WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  GetPromptRequestSchema,
  type JSONRPCMessage,
  ListPromptsRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  isInitializeRequest,
} from "@modelcontextprotocol/sdk/types.js";
import { randomUUID } from "node:crypto";

/** A 1×1 PNG and a minimal WAV, as the suite's reference server sends. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const WAV = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (t: string) => ({ content: [{ type: "text" as const, text: t }] });
const noArgs = { type: "object" as const, properties: {} };

const TOOLS = [
  { name: "test_simple_text", description: "Returns one text block", inputSchema: noArgs },
  { name: "test_image_content", description: "Returns an image", inputSchema: noArgs },
  { name: "test_audio_content", description: "Returns audio", inputSchema: noArgs },
  { name: "test_embedded_resource", description: "Returns an embedded resource", inputSchema: noArgs },
  { name: "test_multiple_content_types", description: "Returns text, an image and a resource", inputSchema: noArgs },
  { name: "test_tool_with_logging", description: "Sends three log messages while it runs", inputSchema: noArgs },
  { name: "test_tool_with_progress", description: "Sends three progress notifications", inputSchema: noArgs },
  { name: "test_error_handling", description: "Always fails (isError)", inputSchema: noArgs },
  { name: "test_reconnection", description: "Closes its SSE stream mid-call; the result arrives after the client reconnects", inputSchema: noArgs },
  { name: "test_sampling", description: "Asks the client for a completion", inputSchema: { type: "object" as const, properties: { prompt: { type: "string" } }, required: ["prompt"] } },
  { name: "test_elicitation", description: "Asks the user for input", inputSchema: { type: "object" as const, properties: { message: { type: "string" } }, required: ["message"] } },
  { name: "test_elicitation_sep1034_defaults", description: "Elicitation with a default for every primitive type", inputSchema: noArgs },
  { name: "test_elicitation_sep1330_enums", description: "Elicitation with the five enum forms", inputSchema: noArgs },
  {
    name: "json_schema_2020_12_tool",
    description: "A JSON Schema 2020-12 input schema ($schema, $defs, additionalProperties)",
    inputSchema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object" as const,
      $defs: { address: { type: "object", properties: { street: { type: "string" }, city: { type: "string" } } } },
      properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } },
      additionalProperties: false,
    },
  },
];

const RESOURCES = [
  { uri: "test://static-text", name: "static-text", title: "Static text", mimeType: "text/plain" },
  { uri: "test://static-binary", name: "static-binary", title: "Static binary (PNG)", mimeType: "image/png" },
  { uri: "test://watched-resource", name: "watched-resource", title: "Watched resource", mimeType: "text/plain" },
];

const PROMPTS = [
  { name: "test_simple_prompt", description: "A prompt without arguments" },
  {
    name: "test_prompt_with_arguments",
    description: "A prompt with two required arguments",
    arguments: [
      { name: "arg1", description: "First argument", required: true },
      { name: "arg2", description: "Second argument", required: true },
    ],
  },
  { name: "test_prompt_with_embedded_resource", description: "A prompt embedding a resource", arguments: [{ name: "resourceUri", description: "URI to embed", required: true }] },
  { name: "test_prompt_with_image", description: "A prompt with an image" },
];

/** Events kept for replay after a reconnect with Last-Event-ID (SEP-1699); ids sort by time within a stream. */
function memoryEventStore(): EventStore {
  const events: { id: string; stream: string; message: JSONRPCMessage }[] = [];
  let seq = 0;
  return {
    async storeEvent(stream, message) {
      const id = `${stream}::${String(++seq).padStart(8, "0")}`;
      events.push({ id, stream, message });
      return id;
    },
    async replayEventsAfter(lastEventId, { send }) {
      const stream = lastEventId.split("::")[0]!;
      for (const e of events) if (e.stream === stream && e.id > lastEventId && Object.keys(e.message).length > 0) await send(e.id, e.message);
      return stream;
    },
  };
}

const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();
const subscriptions = new Set<string>();

function createServer(): Server {
  const server = new Server(
    { name: "mcb-conformance-everything-server", version: "1.0.0" },
    { capabilities: { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true }, prompts: { listChanged: true }, logging: {}, completions: {} } },
  );

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const args = (req.params.arguments ?? {}) as Record<string, unknown>;
    switch (req.params.name) {
      case "test_simple_text":
        return text("This is a simple text response for testing.");
      case "test_image_content":
        return { content: [{ type: "image", data: PNG, mimeType: "image/png" }] };
      case "test_audio_content":
        return { content: [{ type: "audio", data: WAV, mimeType: "audio/wav" }] };
      case "test_embedded_resource":
        return { content: [{ type: "resource", resource: { uri: "test://embedded-resource", mimeType: "text/plain", text: "This is an embedded resource content." } }] };
      case "test_multiple_content_types":
        return {
          content: [
            { type: "text", text: "Multiple content types test:" },
            { type: "image", data: PNG, mimeType: "image/png" },
            { type: "resource", resource: { uri: "test://mixed-content-resource", mimeType: "application/json", text: JSON.stringify({ test: "data", value: 123 }) } },
          ],
        };
      case "test_tool_with_logging": {
        for (const data of ["Tool execution started", "Tool processing data", "Tool execution completed"]) {
          await extra.sendNotification({ method: "notifications/message", params: { level: "info", data } });
          await sleep(50);
        }
        return text("Tool with logging executed successfully");
      }
      case "test_tool_with_progress": {
        const progressToken = extra._meta?.progressToken ?? 0;
        for (const progress of [0, 50, 100]) {
          await extra.sendNotification({ method: "notifications/progress", params: { progressToken, progress, total: 100, message: `Completed step ${progress} of 100` } });
          // A pause after the last one too: a client drops progress handled after its result.
          await sleep(50);
        }
        return text(String(progressToken));
      }
      case "test_error_handling":
        return { isError: true, content: [{ type: "text", text: "This tool intentionally returns an error for testing" }] };
      case "test_reconnection": {
        if (extra.sessionId) sessions.get(extra.sessionId)?.closeSSEStream(extra.requestId);
        await sleep(100);
        return text("Reconnection test completed successfully: the client reconnected after the stream closed.");
      }
      case "test_sampling": {
        const r = await extra.sendRequest({ method: "sampling/createMessage", params: { messages: [{ role: "user", content: { type: "text", text: String(args.prompt ?? "") } }], maxTokens: 100 } }, CreateMessageResultSchema);
        const content = r.content as { type: string; text?: string };
        return text(`LLM response: ${content.type === "text" ? content.text : "(not text)"}`);
      }
      case "test_elicitation": {
        const r = await extra.sendRequest(
          { method: "elicitation/create", params: { message: String(args.message ?? ""), requestedSchema: { type: "object", properties: { response: { type: "string", description: "User's response" } }, required: ["response"] } } },
          ElicitResultSchema,
        );
        return text(`User response: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
      }
      case "test_elicitation_sep1034_defaults": {
        const r = await extra.sendRequest(
          {
            method: "elicitation/create",
            params: {
              message: "Please review and update the form fields with defaults",
              requestedSchema: {
                type: "object",
                properties: {
                  name: { type: "string", description: "User name", default: "John Doe" },
                  age: { type: "integer", description: "User age", default: 30 },
                  score: { type: "number", description: "User score", default: 95.5 },
                  status: { type: "string", description: "User status", enum: ["active", "inactive", "pending"], default: "active" },
                  verified: { type: "boolean", description: "Verification status", default: true },
                },
                required: [],
              },
            },
          },
          ElicitResultSchema,
        );
        return text(`Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
      }
      case "test_elicitation_sep1330_enums": {
        const r = await extra.sendRequest(
          {
            method: "elicitation/create",
            params: {
              message: "Please select options from the enum fields",
              requestedSchema: {
                type: "object",
                properties: {
                  untitledSingle: { type: "string", description: "Select one option", enum: ["option1", "option2", "option3"] },
                  titledSingle: {
                    type: "string",
                    description: "Select one option with titles",
                    oneOf: [
                      { const: "value1", title: "First Option" },
                      { const: "value2", title: "Second Option" },
                      { const: "value3", title: "Third Option" },
                    ],
                  },
                  legacyEnum: { type: "string", description: "Select one option (legacy)", enum: ["opt1", "opt2", "opt3"], enumNames: ["Option One", "Option Two", "Option Three"] },
                  untitledMulti: { type: "array", description: "Select multiple options", minItems: 1, maxItems: 3, items: { type: "string", enum: ["option1", "option2", "option3"] } },
                  titledMulti: {
                    type: "array",
                    description: "Select multiple options with titles",
                    minItems: 1,
                    maxItems: 3,
                    items: {
                      anyOf: [
                        { const: "value1", title: "First Choice" },
                        { const: "value2", title: "Second Choice" },
                        { const: "value3", title: "Third Choice" },
                      ],
                    },
                  },
                },
                required: [],
              },
            },
          },
          ElicitResultSchema,
        );
        return text(`Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
      }
      case "json_schema_2020_12_tool":
        return text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`);
      default:
        return { isError: true, content: [{ type: "text", text: `Unknown tool: ${req.params.name}` }] };
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: RESOURCES }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [{ uriTemplate: "test://template/{id}/data", name: "template", title: "Resource template", mimeType: "application/json" }],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => {
    const uri = req.params.uri;
    if (uri === "test://static-text") return { contents: [{ uri, mimeType: "text/plain", text: "This is the content of the static text resource." }] };
    if (uri === "test://static-binary") return { contents: [{ uri, mimeType: "image/png", blob: PNG }] };
    if (uri === "test://watched-resource") return { contents: [{ uri, mimeType: "text/plain", text: "Watched resource content" }] };
    const m = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
    if (m) return { contents: [{ uri, mimeType: "application/json", text: JSON.stringify({ id: m[1], templateTest: true, data: `Data for ID: ${m[1]}` }) }] };
    throw new Error(`Resource not found: ${uri}`);
  });
  server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    subscriptions.add(req.params.uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    subscriptions.delete(req.params.uri);
    return {};
  });

  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: PROMPTS }));
  server.setRequestHandler(GetPromptRequestSchema, async (req) => {
    const a = req.params.arguments ?? {};
    switch (req.params.name) {
      case "test_simple_prompt":
        return { messages: [{ role: "user", content: { type: "text", text: "This is a simple prompt for testing." } }] };
      case "test_prompt_with_arguments":
        return { messages: [{ role: "user", content: { type: "text", text: `Prompt with arguments: arg1='${a.arg1}', arg2='${a.arg2}'` } }] };
      case "test_prompt_with_embedded_resource":
        return {
          messages: [
            { role: "user", content: { type: "resource", resource: { uri: a.resourceUri ?? "test://example-resource", mimeType: "text/plain", text: "Embedded resource content for testing." } } },
            { role: "user", content: { type: "text", text: "Please process the embedded resource above." } },
          ],
        };
      case "test_prompt_with_image":
        return {
          messages: [
            { role: "user", content: { type: "image", data: PNG, mimeType: "image/png" } },
            { role: "user", content: { type: "text", text: "Please analyze the image above." } },
          ],
        };
      default:
        throw new Error(`Unknown prompt: ${req.params.name}`);
    }
  });

  server.setRequestHandler(SetLevelRequestSchema, async () => ({}));
  server.setRequestHandler(CompleteRequestSchema, async () => ({ completion: { values: [], total: 0, hasMore: false } }));
  return server;
}

function jsonError(status: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }, { status });
}

/** Host and Origin must name this server on a loopback name (DNS rebinding protection). */
function localRequest(req: Request, port: number): boolean {
  const ok = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  if (!ok.has(req.headers.get("host") ?? "")) return false;
  const origin = req.headers.get("origin");
  if (origin === null) return true;
  try {
    return ok.has(new URL(origin).host);
  } catch {
    return false;
  }
}

async function handle(req: Request, port: number): Promise<Response> {
  const url = new URL(req.url);
  if (url.pathname !== "/mcp") return new Response("not found", { status: 404 });
  if (!localRequest(req, port)) return jsonError(403, "Forbidden: Host or Origin is not this local server");
  const sessionId = req.headers.get("mcp-session-id");
  if (sessionId) {
    const transport = sessions.get(sessionId);
    return transport ? transport.handleRequest(req) : jsonError(404, "Session not found");
  }
  if (req.method !== "POST") return jsonError(400, "Missing session id");
  const body = await req.json().catch(() => null);
  if (!isInitializeRequest(body)) return jsonError(400, "Missing session id");
  const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    eventStore: memoryEventStore(),
    retryInterval: 500,
    onsessioninitialized: (id) => void sessions.set(id, transport),
    onsessionclosed: (id) => void sessions.delete(id),
  });
  await createServer().connect(transport);
  return transport.handleRequest(req, { parsedBody: body });
}

const portArg = process.argv.indexOf("--port");
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: portArg > 0 ? Number(process.argv[portArg + 1]) : 0,
  // SSE streams stay open between events.
  idleTimeout: 0,
  fetch: (req, srv) => handle(req, srv.port ?? 0),
});
process.stdout.write(`listening http://127.0.0.1:${server.port}/mcp\n`);
for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => process.exit(0));
