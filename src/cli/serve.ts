// `serve`: the stdio MCP broker (also what runs with no arguments).
import { brokerVersion } from "../build-info.ts";
import { command, type RuntimeFactory } from "./command.ts";
import { storeArg } from "./common.ts";

/** The process's runtime (main.ts serves with no arguments, before any CLI parsing). */
const processRuntime: RuntimeFactory = async (opts) => (await import("../runtime.ts")).openRuntime(opts);

/** Serves MCP over stdio until stdin closes or a termination signal arrives. */
export async function runServe(openRuntime: RuntimeFactory = processRuntime, storeFlag?: string): Promise<void> {
  const rt = await openRuntime({ storeFlag, serving: true });
  const { serveStdio } = await import("../mcp/server.ts");
  await serveStdio(rt.broker, await brokerVersion(), rt.log);
}

export const serveCommand = command({
  examples: [
    "mcp-credentials-broker serve                 # what an MCP client runs",
    "mcp-credentials-broker serve --store memory  # nothing persists",
    "MCB_HOME=/tmp/mcb mcp-credentials-broker     # another data dir",
  ],
  meta: { name: "serve", description: "Run the MCP server on stdin/stdout (the default with no arguments). Logs go to stderr." },
  args: { ...storeArg },
  async run({ args, openRuntime }) {
    await runServe(openRuntime, args.store);
  },
});
