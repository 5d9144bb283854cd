// The floor for `npm run bench`: the smallest stdio MCP server on the same SDK and zod as
// the broker (McpServer + StdioServerTransport, one trivial tool). run.ts compiles it with
// `bun build --compile --minify --bytecode --format=esm` into bench/.build/hello-server.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "bench-hello", version: "0.0.0" });

server.registerTool(
  "echo",
  { description: "Returns its text argument.", inputSchema: { text: z.string() } },
  async ({ text }) => ({ content: [{ type: "text", text }] }),
);

await server.connect(new StdioServerTransport());
