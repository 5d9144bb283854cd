// Runs CLI commands in-process (gh's pattern: fake IO streams and factories): stdout and
// stderr into buffers, stdin from a string, the broker's runtime over a temp MCB_HOME.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { afterEach, expect, it } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { openRuntime } from "../../src/runtime.ts";
import type { CliDeps, Io } from "../../src/cli/command.ts";
import { runCli } from "../../src/cli/dispatch.ts";
import { rootCommand } from "../../src/cli/root.ts";
import type { InstallDeps } from "../../src/mcp-clients/install.ts";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Piped to stdin (default: nothing). */
  input?: string;
  /** Variables besides MCB_HOME and MCB_STORE=file. */
  env?: Record<string, string | undefined>;
  /** stdout is a terminal (secret get adds a newline). */
  tty?: boolean;
  installDeps?: () => Promise<InstallDeps>;
  /** Called with stderr's text so far after each write (a test waiting for a prompt or a code). */
  onStderr?: (text: string) => void;
}

const homes: string[] = [];
afterEach(() => {
  for (const d of homes.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh data dir (0700), removed after the test. */
export function tempHome(): string {
  const d = mkdtempSync(join(tmpdir(), "mcb-cli-"));
  homes.push(d);
  return d;
}

/** A stream collecting what is written to it (a Writable: `run` pumps a child's output into it). */
class Buffered extends Writable {
  text = "";
  constructor(private readonly onText?: (text: string) => void) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.text += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    this.onText?.(this.text);
    done();
  }
}

/**
 * The environment of a test CLI: the file store (no keychain probing) in `home`, unencrypted —
 * MCB_STORE_KEY's scrypt costs ≈30 ms per command (test/store/ covers the sealed file).
 */
export function cliEnv(home: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { MCB_HOME: home, MCB_STORE: "file", PATH: process.env.PATH, ...extra };
}

/** Runs `argv` in-process against the data dir `home`. */
export async function cli(home: string, argv: string[], opts: CliOptions = {}): Promise<CliResult> {
  const stdout = new Buffered();
  const stderr = new Buffered(opts.onStderr);
  const io: Io = {
    stdout,
    stderr,
    stdin: Readable.from(opts.input === undefined ? [] : [Buffer.from(opts.input)]),
    stdinIsTTY: false,
    stdoutIsTTY: opts.tty === true,
    stderrIsTTY: false,
    color: false,
  };
  const config = loadConfig(cliEnv(home, opts.env));
  const deps: CliDeps = {
    io,
    config,
    openRuntime: (o) => openRuntime({ ...o, config }),
    installDeps: opts.installDeps ?? (() => Promise.reject(new Error("this test gives no InstallDeps"))),
  };
  const code = await runCli(rootCommand("0.0.0-test"), argv, deps);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The audit lines in `home`, parsed (the outcome lines, pending ones included once flushed by close). */
export function auditLines(home: string): Record<string, unknown>[] {
  let text = "";
  try {
    text = readFileSync(join(home, "audit.jsonl"), "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** `[event, outcome]` of each audit line in `home` whose event is one of `events`, in order. */
export function auditEvents(home: string, ...events: string[]): [string, string][] {
  return auditLines(home)
    .filter((l) => events.includes(String(l.event)))
    .map((l) => [String(l.event), String(l.outcome)]);
}

/** The whole audit log of `home` as text (rotated files are not expected in these tests). */
export function auditText(home: string): string {
  return JSON.stringify(auditLines(home));
}

/** A command line a command refuses: its exit code and what stderr says. */
export type Refusal = [argv: string[], code: number, stderr: RegExp];

/**
 * One test per row: `argv` exits with `code` and a message matching `stderr`, prints nothing on
 * stdout and (unless `audited`) writes no audit line — refused before anything was done.
 */
export function refusals(rows: Refusal[], opts: Omit<CliOptions, "installDeps"> & { installDeps?: (home: string) => () => Promise<InstallDeps>; audited?: boolean } = {}): void {
  for (const [argv, code, stderr] of rows) {
    it(`${argv.join(" ") || "(no arguments)"} → exit ${code}`, async () => {
      const home = tempHome();
      const r = await cli(home, argv, { ...opts, installDeps: opts.installDeps?.(home) });
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(stderr);
      expect(r.stdout).toBe("");
      if (!opts.audited) expect(auditLines(home)).toEqual([]);
    });
  }
}
