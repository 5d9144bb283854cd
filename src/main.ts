// Entry point: no arguments → the stdio MCP server; otherwise the CLI.
import { brokerVersion, buildInfo, formatVersion } from "./build-info.ts";
import { describeError } from "./errors.ts";

const CLIENT_HINT = `mcp-credentials-broker: this is an MCP server speaking JSON-RPC on stdin/stdout.
Add it to your MCP client with \`mcp-credentials-broker install <claude|claude-code|cursor|vscode|windsurf|amazonq>\`,
or put its absolute path in the client's config, e.g. in claude_desktop_config.json:

  { "mcpServers": { "credentials": { "command": "${process.execPath}" } } }

Run \`${"mcp-credentials-broker"} --help\` for the CLI. Serving on stdio now (Ctrl-C to stop).
`;

/** Output streams whose reader went away: nothing more can be delivered there. */
const gone = new Set<NodeJS.WriteStream>();

// A reader that stops reading (`secret list --json | head -c 100`, an MCP client that quit)
// makes the next write fail with EPIPE (POSIX write(): EPIPE, and SIGPIPE, which Bun
// ignores, so the error is all that arrives). Without a listener, the
// stream's 'error' event would end the process with a stack trace. Output nobody reads is
// dropped; the command finishes (`serve` stops: see StdioTransport) and exits normally.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => gone.add(stream));

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    // A person ran it in a terminal: say what it is (stderr; stdout stays JSON-RPC).
    if (process.stdin.isTTY && process.stderr.isTTY) process.stderr.write(CLIENT_HINT);
    const { runServe } = await import("./cli/serve.ts");
    await runServe();
    return 0;
  }
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
    process.stdout.write(`${formatVersion(await buildInfo())}\n`);
    return 0;
  }
  const [{ runCli }, { rootCommand }] = await Promise.all([import("./cli/dispatch.ts"), import("./cli/root.ts")]);
  return runCli(rootCommand(await brokerVersion()), argv);
}

/**
 * Resolves once `stream` has handed all it was given to the OS (or its reader is gone).
 * Through a pipe, write() queues what the pipe cannot take yet (64 KiB on Linux), and
 * process.exit() drops that queue: `secret list --json | jq` got cut mid-JSON with exit
 * code 0. Ending the stream calls back once the queue is written.
 */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (gone.has(stream) || stream.destroyed || stream.writableFinished) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once("error", () => resolve());
    stream.once("close", () => resolve());
    try {
      stream.end(() => resolve());
    } catch {
      resolve();
    }
  });
}

/** Exits with `code` once stdout and stderr are flushed. process.exit still ends whatever else runs (timers, sockets). */
async function exit(code: number): Promise<never> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

main(process.argv.slice(2)).then(
  (code) => exit(code),
  (e: unknown) => {
    if (!gone.has(process.stderr)) process.stderr.write(`error: ${describeError(e)}\n`);
    return exit(1);
  },
);
