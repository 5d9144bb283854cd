// Runs the command `run` wraps: stdin inherited, stdout/stderr through the masker, signals forwarded.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { Masker, type MaskedSecret } from "../core/mask.ts";
import { BrokerError } from "../errors.ts";

/** Signals a supervisor passes on (`op run`, `tini`, `npm` do the same). */
export const FORWARDED_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

/**
 * How long a held-back partial value may wait for the rest before it is written anyway.
 * A JSON-RPC line ends in a newline and is held only when it ends in the first line of a
 * multi-line value, so this mostly delays output that ends mid-line on a possible value
 * prefix (a prompt, a progress bar). When a multi-line value's rest is late (a PEM key
 * logged one line per write, with pauses), the held lines are written, but every line of
 * the value is also masked on its own (maskedLines in src/core/mask.ts), so neither they
 * nor the lines still to come appear in clear. Only a pause inside one line writes that
 * line's held start as it is, as for a single-line value.
 */
export const IDLE_FLUSH_MS = 200;

/**
 * Starts `argv` (no shell) with `env`, waits for it, and returns the exit code to use:
 * the child's, or 128 + the signal number when a signal ended it (the shell convention).
 * With `masked` values, stdout and stderr go through a Masker to `out` (the CLI's IO
 * handles); otherwise they are inherited.
 */
export async function runChild(argv: string[], env: Record<string, string>, masked: MaskedSecret[] | null, out: { stdout: Writable; stderr: Writable }): Promise<number> {
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ["inherit", masked ? "pipe" : "inherit", masked ? "pipe" : "inherit"] });
  const forward = FORWARDED_SIGNALS.map((sig) => {
    const handler = () => {
      child.kill(sig);
    };
    process.on(sig, handler);
    return () => process.off(sig, handler);
  });
  try {
    const pumps = masked && child.stdout && child.stderr ? [pump(child.stdout, new Masker(masked), out.stdout), pump(child.stderr, new Masker(masked), out.stderr)] : [];
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once("error", (e: NodeJS.ErrnoException) => reject(spawnError(argv[0]!, e)));
      child.once("close", (code, signal) => resolve({ code, signal }));
    });
    await Promise.all(pumps);
    if (exit.code !== null) return exit.code;
    return 128 + (exit.signal ? (constants.signals[exit.signal] ?? 0) : 0);
  } finally {
    for (const off of forward) off();
  }
}

function spawnError(command: string, e: NodeJS.ErrnoException): BrokerError {
  const why = e.code === "ENOENT" ? "not found: check the name, or give its absolute path (no shell is used, so PATH lookup only)" : e.code === "EACCES" ? "permission denied (is it executable?)" : (e.code ?? "spawn failed");
  return new BrokerError("COMMAND_FAILED", `Cannot start '${command}': ${why}.`, { cause: e });
}

/**
 * Copies `src` to `dest` through `masker`, with back-pressure; resolves when `src` has
 * ended and the last bytes were handed to `dest`. A destination that is gone (EPIPE: the
 * MCP client closed our stdout) is ignored so the child can still finish.
 */
function pump(src: Readable, masker: Masker, dest: Writable): Promise<void> {
  return new Promise((resolve) => {
    let broken = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onError = () => {
      broken = true;
      src.resume();
    };
    dest.on("error", onError);
    const write = (buf: Buffer, done?: () => void) => {
      if (broken) return done?.();
      // An empty write still calls back once everything before it is written, which is what `end` waits for.
      if (buf.length === 0 && !done) return;
      if (!dest.write(buf, () => done?.()) && !broken) {
        src.pause();
        dest.once("drain", () => src.resume());
      }
    };
    src.on("data", (chunk: Buffer) => {
      clearTimeout(timer);
      write(masker.push(chunk));
      if (masker.pending > 0) timer = setTimeout(() => write(masker.flush()), IDLE_FLUSH_MS);
    });
    src.once("end", () => {
      clearTimeout(timer);
      write(masker.flush(), () => {
        dest.off("error", onError);
        resolve();
      });
    });
  });
}
