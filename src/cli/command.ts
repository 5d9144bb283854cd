// The shape of a CLI command (gh's options-struct pattern, cli/cli pkg/cmd/*: a command gets
// its parsed options, IO streams and factories, and never reaches for the process itself):
// each command is a small definition whose `run` receives the parsed args, the IO handles and
// a runtime factory. dispatch.ts builds the real ones from the process; the in-process tests
// in test/cli/ build fake ones (buffers, a fake stdin, a runtime over a temp data dir).
import { defineCommand, type ArgsDef, type CommandDef, type CommandMeta, type ParsedArgs, type SubCommandsDef } from "citty";
import type { Config } from "../config.ts";
import type { Runtime } from "../runtime.ts";
import type { InstallDeps } from "../mcp-clients/install.ts";
import { terminalLines } from "./terminal-text.ts";

/** Somewhere text is written: process.stdout/stderr, or a test's buffer (a Writable: `run` pumps a child's output into it). */
export type OutStream = NodeJS.WritableStream;

/** The command's input: process.stdin, or a test's stream. setRawMode exists on a terminal only. */
export type InStream = NodeJS.ReadableStream & { setRawMode?(mode: boolean): unknown; destroy?(): unknown };

/** The streams a command reads and writes, and what they are connected to (gh's IOStreams). */
export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  stdin: InStream;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Colour on stdout/stderr: a terminal and no NO_COLOR (https://no-color.org). */
  color: boolean;
}

/** Opens the broker runtime (store, audit log, OAuth), closed by withRuntime. */
export type RuntimeFactory = (opts: { storeFlag?: string; quietStoreWarning?: boolean; serving?: boolean }) => Promise<Runtime>;

/** What every command gets besides its arguments. */
export interface CliDeps {
  io: Io;
  /** The broker's runtime: the real one from runtime.ts, or a test's over a temp MCB_HOME. */
  openRuntime: RuntimeFactory;
  /** The configuration (src/config.ts): the process's, or a test's over a temp MCB_HOME. */
  config: Config;
  /** What `install`, `uninstall` and `doctor` need from the machine. */
  installDeps: () => Promise<InstallDeps>;
}

/** A command's `run` argument: its parsed args and the dependencies, with output helpers. */
export interface CliContext<A extends ArgsDef> extends CliDeps {
  args: ParsedArgs<A>;
  /** The command's own arguments (after its name), for repeatable flags and `--`. */
  rawArgs: string[];
  /** A line on stdout, control characters escaped (terminal-text.ts) except the newlines and tabs it was composed with. */
  out(line: string): void;
  /** A message line on stderr, escaped like out(). */
  note(line: string): void;
  /**
   * Opens the runtime, runs `fn`, and always closes the broker (flushing store and audit log).
   * When `fn` succeeded but the audit log failed afterwards (the outcome line of a change, the
   * disk full by then), the command still succeeded — its intent line was written before the
   * change — and a warning says what is missing from the log.
   */
  withRuntime<T>(storeFlag: string | undefined, fn: (rt: Runtime) => Promise<T>, opts?: { quietStoreWarning?: boolean }): Promise<T>;
}

/** A citty command with our additions: examples shown under its usage. */
export type CliCommand = CommandDef<any> & { examples?: readonly string[] };

export interface CommandSpec<A extends ArgsDef> {
  meta: CommandMeta;
  /** citty's arg definitions; a string flag marked `repeatable: true` may be given more than once (read with repeatedFlag), any other only once (dispatch.ts). */
  args?: A;
  /** Shown under EXAMPLES in `--help`. */
  examples?: readonly string[];
  subCommands?: SubCommandsDef;
  /** Returns the exit code (default 0); throws BrokerError / UsageError for 1 / 2 (dispatch.ts). */
  run?(ctx: CliContext<A>): Promise<number | void> | number | void;
}

/** Builds the context dispatch.ts hands a command. */
export function cliContext<A extends ArgsDef>(deps: CliDeps, args: ParsedArgs<A>, rawArgs: string[]): CliContext<A> {
  const note = (line: string) => {
    deps.io.stderr.write(`${terminalLines(line)}\n`);
  };
  return {
    ...deps,
    args,
    rawArgs,
    out: (line) => {
      deps.io.stdout.write(`${terminalLines(line)}\n`);
    },
    note,
    async withRuntime(storeFlag, fn, opts) {
      const rt = await deps.openRuntime({ storeFlag, ...(opts?.quietStoreWarning ? { quietStoreWarning: true } : {}) });
      let result;
      try {
        result = await fn(rt);
      } finally {
        await rt.broker.close();
      }
      const failure = rt.broker.auditFailure();
      if (failure) note(`warning: done, but its outcome line is missing from the audit log (the line saying it was about to be done is there): ${failure.message}`);
      return result;
    },
  };
}

/**
 * Defines a command. citty parses the args; `data` carries the CliDeps dispatch.ts built
 * (citty passes `data` to the command it is given, which is why dispatch.ts finds the leaf).
 */
export function command<const A extends ArgsDef = ArgsDef>(spec: CommandSpec<A>): CliCommand {
  const def = defineCommand<A>({
    meta: spec.meta,
    ...(spec.args ? { args: spec.args } : {}),
    ...(spec.subCommands ? { subCommands: spec.subCommands } : {}),
    ...(spec.run
      ? {
          run: ({ args, rawArgs, data }) => {
            if (!data) throw new Error("a CLI command runs through dispatch.ts (runCli), which supplies its IO and runtime");
            return spec.run!(cliContext(data as CliDeps, args, rawArgs));
          },
        }
      : {}),
  });
  return Object.assign(def, spec.examples ? { examples: spec.examples } : {});
}
