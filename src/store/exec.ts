// Runs an OS helper (security, secret-tool, dbus-send, PowerShell, the approval dialogs): an
// absolute path and an argv array (never a shell), optional stdin, a hard timeout, and typed errors.
import { existsSync } from "node:fs";
import { basename, isAbsolute, join, win32 } from "node:path";
import { BrokerError } from "../errors.ts";

export interface HelperCall {
  /** Absolute path of the helper. Never looked up on PATH: a PATH entry could be hijacked (jaraco/keyring#212). */
  command: string;
  /** Arguments, passed as they are: no shell ever parses them. They must never hold a secret value. */
  args: readonly string[];
  /** Bytes for the helper's stdin, the only channel a secret value may take; stdin is closed after them. */
  stdin?: string;
  /** The helper is killed (SIGKILL) and BACKEND_UNAVAILABLE thrown when it has not exited by then. */
  timeoutMs: number;
  /** The helper's whole environment. */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * A helper that waits for a person (an approval dialog): running out of time is an answer,
   * not a failure — the helper is still killed, and the result has `timedOut` instead of a throw.
   */
  timeoutIsAnswer?: boolean;
}

export interface HelperResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Only with `timeoutIsAnswer`: the helper was killed at the timeout (code is then -1). */
  timedOut?: true;
}

/**
 * Runs a helper to completion and returns its exit code and output, whatever the code.
 * Throws BACKEND_UNAVAILABLE when it cannot be started or does not finish within the timeout.
 */
export async function runHelper(call: HelperCall): Promise<HelperResult> {
  const tool = basename(call.command);
  if (!isAbsolute(call.command)) {
    throw new BrokerError("INTERNAL", `Refusing to run '${tool}' by a relative name: keychain helpers are called by absolute path.`);
  }
  let proc: ReturnType<typeof spawn>;
  try {
    proc = spawn(call);
  } catch (e) {
    throw new BrokerError("BACKEND_UNAVAILABLE", `Cannot run ${call.command} (${(e as NodeJS.ErrnoException).code ?? "error"}): is it installed?`, { cause: e });
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), call.timeoutMs);
  });
  const finished = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  try {
    const outcome = await Promise.race([finished, timedOut]);
    if (outcome === "timeout") {
      proc.kill("SIGKILL");
      if (call.timeoutIsAnswer) return { code: -1, stdout: "", stderr: "", timedOut: true };
      throw new BrokerError(
        "BACKEND_UNAVAILABLE",
        `${tool} did not answer within ${call.timeoutMs} ms and was stopped. The keychain may be waiting for an unlock prompt, or its service is hung; run \`mcp-credentials-broker doctor\`.`,
      );
    }
    const [stdout, stderr, code] = outcome;
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** The first non-empty line of a helper's stderr, capped, for error messages (only for calls whose stdin held no secret). */
export function firstLine(text: string, max = 200): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== "")?.trim() ?? "";
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

function spawn(call: HelperCall) {
  return Bun.spawn([call.command, ...call.args], {
    stdin: call.stdin === undefined ? "ignore" : Buffer.from(call.stdin, "utf8"),
    stdout: "pipe",
    stderr: "pipe",
    env: definedOnly(call.env),
  });
}

function definedOnly(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** Where keychain helpers are looked for, in order: system directories only, never PATH. */
export const SYSTEM_BIN_DIRS = ["/usr/bin", "/bin", "/usr/local/bin", "/run/current-system/sw/bin"] as const;

/** The absolute path of a system tool, or null when none of `dirs` has it. */
export function findSystemTool(name: string, dirs: readonly string[] = SYSTEM_BIN_DIRS): string | null {
  for (const d of dirs) {
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/** Windows PowerShell 5.1 (present on every Windows 10/11), by absolute path under %SystemRoot%. */
export function windowsPowerShellPath(env: Readonly<Record<string, string | undefined>>): string {
  return win32.join(env.SystemRoot || env.windir || "C:\\Windows", "System32", "WindowsPowerShell", "v1.0", "powershell.exe");
}

/** Fixed flags only: never a script or a value. */
export const POWERSHELL_ARGS = ["-NoLogo", "-NoProfile", "-NonInteractive", "-Command", "-"] as const;
