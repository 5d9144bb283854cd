// Runs a citty command tree with our conventions: exit 0/1/2, `error: …` on stderr, help with examples.
import { renderUsage, runCommand, type CommandDef } from "citty";
import { BrokerError, describeError } from "../errors.ts";
import { terminalLines } from "./terminal-text.ts";

/** Thrown by commands for bad usage (exit 2). */
export class UsageError extends Error {}

type AnyCommand = CommandDef<any>;

async function resolve<T>(v: T | Promise<T> | (() => T | Promise<T>) | undefined): Promise<T | undefined> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

/** Finds the deepest sub-command named by the leading positionals of `argv`. */
async function findCommand(root: AnyCommand, argv: string[]): Promise<{ cmd: AnyCommand; parent?: AnyCommand; path: string }> {
  let cmd = root;
  let parent: AnyCommand | undefined;
  const path: string[] = [];
  for (const a of argv) {
    if (a.startsWith("-")) continue;
    const subs = await resolve(cmd.subCommands);
    const next = subs?.[a];
    if (!next) break;
    parent = cmd;
    cmd = (await resolve(next)) as AnyCommand;
    path.push(a);
  }
  return { cmd, parent, path: path.join(" ") };
}

/** Examples shown under each command's usage, keyed by its path ("" for the root, "secret set"). */
export const examples = new Map<string, string[]>();

async function usage(root: AnyCommand, argv: string[]): Promise<string> {
  const { cmd, parent, path } = await findCommand(root, argv);
  const text = await renderUsage(cmd, parent);
  const ex = examples.get(path);
  const full = ex ? `${text}\n\nEXAMPLES\n\n${ex.map((e) => `  ${e}`).join("\n")}\n` : text;
  return plainText(full, process.stdout);
}

/** citty colours unconditionally; honour NO_COLOR and plain pipes by stripping ANSI. */
function plainText(s: string, stream: NodeJS.WriteStream): string {
  if (process.env.NO_COLOR === undefined && stream.isTTY) return s;
  // biome-ignore lint: matching ANSI escapes is the point
  return s.replace(/\u001b\[[0-9;]*m/g, "").replace(/[ \t]+$/gm, "");
}

/** Runs the CLI; returns the process exit code. */
export async function runCli(root: AnyCommand, argv: string[]): Promise<number> {
  const dashDash = argv.indexOf("--");
  const own = dashDash === -1 ? argv : argv.slice(0, dashDash);
  if (own.includes("--help") || own.includes("-h")) {
    process.stdout.write(`${await usage(root, own)}\n`);
    return 0;
  }
  try {
    await runCommand(root, { rawArgs: argv });
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof UsageError || (e as { name?: string }).name === "CLIError") {
      process.stderr.write(plainText(`${await usage(root, own)}\nerror: ${terminalLines((e as Error).message)}\n`, process.stderr));
      return 2;
    }
    if (e instanceof BrokerError && e.code === "INVALID_INPUT") {
      process.stderr.write(`error: ${terminalLines(e.message)}\n`);
      return 2;
    }
    // A message may quote a name or a URL from outside (escaped here), never a value.
    process.stderr.write(`error: ${terminalLines(describeError(e))}\n`);
    return 1;
  }
}
