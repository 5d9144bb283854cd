// Runs a citty command tree with our conventions: exit 0/1/2, `error: …` on stderr, help with
// examples, unknown flags refused. The process's streams and the real runtime factory are built
// here (processCliDeps) and handed to the command (command.ts); tests hand in their own.
import { renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import { config as processConfig } from "../config.ts";
import { BrokerError, describeError } from "../errors.ts";
import type { CliCommand, CliDeps, Io } from "./command.ts";
import { terminalLines } from "./terminal-text.ts";

/** Thrown by commands for bad usage (exit 2). */
export class UsageError extends Error {}

type AnyCommand = CommandDef<any>;

async function resolve<T>(v: T | Promise<T> | (() => T | Promise<T>) | undefined): Promise<T | undefined> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The arg definition a `--name` refers to (kebab or camel spelling, as citty accepts both). */
function argNamed(defs: ArgsDef, name: string) {
  for (const [key, def] of Object.entries(defs)) if (def.type !== "positional" && camel(key) === camel(name)) return def;
  return undefined;
}

/** Where the sub-command name is in `rawArgs`: the first positional not taken as a flag's value (as citty finds it). */
function subCommandIndex(rawArgs: string[], defs: ArgsDef): number {
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === "--") return -1;
    if (a.startsWith("-")) {
      const def = !a.includes("=") && argNamed(defs, a.replace(/^-{1,2}/, ""));
      if (def && (def.type === "string" || def.type === "enum")) i++;
      continue;
    }
    return i;
  }
  return -1;
}

/**
 * The deepest command the leading positionals of `argv` name, its parent, its path ("secret
 * set") and its own arguments. citty hands `data` only to the command it is called with, so
 * the leaf is run directly.
 */
async function findCommand(root: AnyCommand, argv: string[]): Promise<{ cmd: CliCommand; parent?: AnyCommand; path: string; rawArgs: string[] }> {
  let cmd = root;
  let parent: AnyCommand | undefined;
  let rawArgs = argv;
  const path: string[] = [];
  for (;;) {
    const subs = await resolve(cmd.subCommands);
    if (!subs) break;
    const i = subCommandIndex(rawArgs, (await resolve(cmd.args)) ?? {});
    const next = i < 0 ? undefined : subs[rawArgs[i]!];
    if (!next) break;
    parent = cmd;
    path.push(rawArgs[i]!);
    cmd = (await resolve(next)) as AnyCommand;
    rawArgs = rawArgs.slice(i + 1);
  }
  return { cmd, parent, path: path.join(" "), rawArgs };
}

/**
 * Refuses a flag the command does not define: citty would ignore it, and a mistyped
 * `--polcy deny` would store a secret anyone may read. Likewise a flag given twice that takes
 * one value (citty keeps the last: `--policy deny --policy allow` would be allow); flags
 * marked `repeatable` (--tag, --host, --scope, --env, --env-file) are read whole by
 * repeatedFlag (common.ts). Values of string flags are skipped.
 */
function checkFlags(defs: ArgsDef, rawArgs: string[], path: string): void {
  const seen = new Set<string>();
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === "--") return;
    if (!a.startsWith("-") || a === "-") continue;
    const name = a.replace(/^-{1,2}/, "").split("=")[0]!;
    const def = argNamed(defs, name) ?? (name.startsWith("no-") ? argNamed(defs, name.slice(3)) : undefined);
    if (!def) throw new UsageError(`Unknown flag '${a.split("=")[0]!.slice(0, 64)}'${path ? ` for '${path}'` : ""}. See: mcp-credentials-broker ${path ? `${path} ` : ""}--help`);
    if (def.type !== "string" && def.type !== "enum") continue;
    if (!(def as { repeatable?: boolean }).repeatable) {
      if (seen.has(camel(name))) throw new UsageError(`--${name} was given more than once; give it once.`);
      seen.add(camel(name));
    }
    if (!a.includes("=")) i++;
  }
}

async function usage(root: AnyCommand, argv: string[], color: boolean): Promise<string> {
  const { cmd, parent } = await findCommand(root, argv);
  const text = await renderUsage(cmd, parent);
  const ex = cmd.examples;
  const full = ex?.length ? `${text}\n\nEXAMPLES\n\n${ex.map((e) => `  ${e}`).join("\n")}\n` : text;
  return plainText(full, color);
}

// biome-ignore lint: matching ANSI escapes is the point
const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "");

/** citty colours unconditionally; honour NO_COLOR and plain pipes by stripping ANSI. */
function plainText(s: string, color: boolean): string {
  if (color) return s;
  return stripAnsi(s).replace(/[ \t]+$/gm, "");
}

/** The process's streams, as commands see them. */
export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    stdinIsTTY: process.stdin.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    color: !processConfig().noColor && process.stdout.isTTY === true,
  };
}

/** The real dependencies: the process's streams and configuration, the runtime from runtime.ts (loaded when a command opens it). */
export function processCliDeps(): CliDeps {
  return {
    io: processIo(),
    openRuntime: async (opts) => (await import("../runtime.ts")).openRuntime(opts),
    config: processConfig(),
    installDeps: async () => (await import("../runtime.ts")).installDeps(),
  };
}

/** Runs the CLI; returns the process exit code. */
export async function runCli(root: AnyCommand, argv: string[], deps: CliDeps = processCliDeps()): Promise<number> {
  const { io } = deps;
  const dashDash = argv.indexOf("--");
  const own = dashDash === -1 ? argv : argv.slice(0, dashDash);
  if (own.includes("--help") || own.includes("-h")) {
    io.stdout.write(`${await usage(root, own, io.color)}\n`);
    return 0;
  }
  try {
    const { cmd, path, rawArgs } = await findCommand(root, argv);
    if (cmd.run) checkFlags((await resolve(cmd.args)) ?? {}, rawArgs, path);
    const { result } = await runCommand(cmd, { rawArgs, data: deps });
    return typeof result === "number" ? result : 0;
  } catch (e) {
    if (e instanceof UsageError || (e as { name?: string }).name === "CLIError") {
      // citty colours names in its messages; those codes are dropped, anything else escaped.
      const message = stripAnsi((e as Error).message);
      io.stderr.write(`${plainText(await usage(root, own, true), io.color && io.stderrIsTTY)}\nerror: ${terminalLines(message)}\n`);
      return 2;
    }
    if (e instanceof BrokerError && e.code === "INVALID_INPUT") {
      io.stderr.write(`error: ${terminalLines(e.message)}\n`);
      return 2;
    }
    // A message may quote a name or a URL from outside (escaped here), never a value.
    io.stderr.write(`error: ${terminalLines(describeError(e))}\n`);
    return 1;
  }
}
