// `serve`: the stdio MCP broker (also what runs with no arguments).
import { defineCommand } from "citty";
import { brokerVersion, openRuntime } from "../runtime.ts";
import { examples } from "./dispatch.ts";
import { storeArg } from "./common.ts";

examples.set("serve", [
  "mcp-credentials-broker serve                 # what an MCP client runs",
  "mcp-credentials-broker serve --store memory  # nothing persists",
  "MCB_HOME=/tmp/mcb mcp-credentials-broker     # another data dir",
]);

/** Serves MCP over stdio until stdin closes or a termination signal arrives. */
export async function runServe(storeFlag?: string): Promise<void> {
  const rt = await openRuntime({ storeFlag, serving: true });
  const { serveStdio } = await import("../mcp/server.ts");
  await serveStdio(rt.broker, await brokerVersion(), rt.log);
}

export const serveCommand = defineCommand({
  meta: { name: "serve", description: "Run the MCP server on stdin/stdout (the default with no arguments). Logs go to stderr." },
  args: { ...storeArg },
  async run({ args }) {
    await runServe(args.store);
  },
});
