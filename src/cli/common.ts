// Pieces every CLI command shares: the --store/--json flags, opening the runtime, output.
import { openRuntime, type Runtime } from "../runtime.ts";
import { terminalLines } from "./terminal-text.ts";

export const storeArg = {
  store: { type: "string", description: "Backend: auto, keychain, file or memory (default: MCB_STORE, else auto)", valueHint: "auto|keychain|file|memory" },
} as const;
export const jsonArg = { json: { type: "boolean", description: "Print JSON for scripts" } } as const;

/**
 * Opens the runtime, runs `fn`, and always closes the broker (flushing store and audit log).
 * When `fn` succeeded but the audit log failed afterwards (the outcome line of a change, the
 * disk full by then), the command still succeeded — its intent line was written before the
 * change — and a warning says what is missing from the log.
 */
export async function withRuntime<T>(storeFlag: string | undefined, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = await openRuntime({ storeFlag });
  let result: T;
  try {
    result = await fn(rt);
  } finally {
    await rt.broker.close();
  }
  const failure = rt.broker.auditFailure();
  if (failure) note(`warning: done, but its outcome line is missing from the audit log (the line saying it was about to be done is there): ${failure.message}`);
  return result;
}

/**
 * Writes a line to stdout, control characters escaped (terminal-text.ts) except the newlines
 * and tabs it was composed with; fields from outside go through terminalText first.
 */
export function out(line: string): void {
  process.stdout.write(`${terminalLines(line)}\n`);
}

/** Writes a message line to stderr, escaped like out(). */
export function note(line: string): void {
  process.stderr.write(`${terminalLines(line)}\n`);
}

/**
 * Every value of a repeatable `--name value` / `--name=value` flag, in order, from the
 * command's raw arguments up to `--`. citty keeps only the last occurrence of a flag.
 */
export function repeatedFlag(rawArgs: string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === "--") break;
    if (a === `--${name}` && i + 1 < rawArgs.length) values.push(rawArgs[++i]!);
    else if (a.startsWith(`--${name}=`)) values.push(a.slice(name.length + 3));
  }
  return values;
}

/** Reads all of stdin as UTF-8. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Local time for humans, or "-" when absent. */
export function when(ms: number | undefined): string {
  return ms === undefined ? "-" : new Date(ms).toISOString().replace(".000Z", "Z");
}
