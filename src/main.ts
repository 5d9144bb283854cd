// Entry point: no arguments → the stdio MCP server; otherwise the CLI.
import { brokerVersion, buildInfo, formatVersion } from "./build-info.ts";
import { describeError } from "./errors.ts";

const CLIENT_HINT = `mcp-credentials-broker: this is an MCP server speaking JSON-RPC on stdin/stdout.
Add it to your MCP client with \`mcp-credentials-broker install <claude|claude-code|cursor|vscode|windsurf|amazonq>\`,
or put its absolute path in the client's config, e.g. in claude_desktop_config.json:

  { "mcpServers": { "credentials": { "command": "${process.execPath}" } } }

Run \`${"mcp-credentials-broker"} --help\` for the CLI. Serving on stdio now (Ctrl-C to stop).
`;

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
  const [{ runCli }, { rootCommand }] = await Promise.all([import("./cli/run-cli.ts"), import("./cli/root.ts")]);
  return runCli(rootCommand(await brokerVersion()), argv);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`error: ${describeError(e)}\n`);
    process.exit(1);
  },
);
