// `run --env VAR=secret:<name> … -- <command> [args…]`: starts a command with secrets in its
// environment and masks them in its output. The broker itself writes nothing to stdout.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { Writable } from "node:stream";
import { parseEnvFile, parseEnvFlag, resolveInjection, type EnvBinding } from "../core/inject.ts";
import { isMaskable, MIN_MASK_LENGTH } from "../core/mask.ts";
import { BrokerError } from "../errors.ts";
import { command } from "./command.ts";
import { repeatedFlag, storeArg } from "./common.ts";
import { UsageError } from "./dispatch.ts";
import { terminalText } from "./terminal-text.ts";

/** Reads each --env-file; a missing file is a usage error naming it. */
function readEnvFiles(paths: string[]): EnvBinding[] {
  return paths.flatMap((path) => {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      throw new BrokerError("INVALID_INPUT", `Cannot read --env-file ${path} (${(e as NodeJS.ErrnoException).code ?? "error"}).`);
    }
    return parseEnvFile(text, path);
  });
}

export const runCommand = command({
  examples: [
    "mcp-credentials-broker run --env GITHUB_PERSONAL_ACCESS_TOKEN=secret:github-token -- github-mcp-server stdio",
    "mcp-credentials-broker run --env-file .env.secrets -- node server.js   # lines VAR=secret:<name> or VAR=value",
    "mcp-credentials-broker run --no-masking --env API_KEY=secret:api-key -- ./deploy.sh",
  ],
  meta: {
    name: "run",
    description:
      "Start a command with secrets in its environment — e.g. an MCP server in your client's config — so the model never sees them. stdin/stdout/stderr pass through (injected values are masked in stdout/stderr), SIGTERM/SIGINT/SIGHUP are forwarded, and the command's exit code is returned (128+N when signal N ended it). A missing secret stops before the command starts.",
  },
  args: {
    env: { type: "string", description: "VAR=secret:<name>, or VAR alone to hand VAR on from this environment (repeatable; the broker's own credentials such as *_CLIENT_SECRET, JWT_SECRET and MCB_STORE_KEY are not handed on otherwise)", valueHint: "VAR=secret:name", repeatable: true },
    "env-file": { type: "string", description: "File of VAR=secret:<name> and VAR=value lines (repeatable; --env wins)", valueHint: "file", repeatable: true },
    masking: { type: "boolean", default: true, description: "Mask injected values in the command's output (--no-masking turns it off)" },
    ...storeArg,
  },
  async run({ args, rawArgs, io, config, note, withRuntime }) {
    const dashDash = rawArgs.indexOf("--");
    const command = dashDash < 0 ? [] : rawArgs.slice(dashDash + 1);
    if (command.length === 0) throw new UsageError("Give the command after --, e.g. run --env TOKEN=secret:github-token -- github-mcp-server stdio");
    const bindings = [...readEnvFiles(repeatedFlag(rawArgs, "env-file")), ...repeatedFlag(rawArgs, "env").map(parseEnvFlag)];
    const injection = await withRuntime(args.store, (rt) => resolveInjection(rt.broker, bindings, config.inherited, basename(command[0]!)));
    if (injection.withheld.length) {
      // Names only: the values never leave the broker.
      note(`mcp-credentials-broker: not passing the broker's own credential variable${injection.withheld.length > 1 ? "s" : ""} ${injection.withheld.map(terminalText).join(", ")} to the command; add --env NAME to hand one on.`);
    }
    if (args.masking) {
      for (const m of injection.masked) {
        if (!isMaskable(m.value)) note(`mcp-credentials-broker: warning: ${m.label} is shorter than ${MIN_MASK_LENGTH} characters, so it is not masked in the command's output.`);
      }
    }
    const { runChild } = await import("./run-child.ts");
    return runChild(command, injection.env, args.masking ? injection.masked : null, { stdout: io.stdout as Writable, stderr: io.stderr as Writable });
  },
});
