// What every OS approval dialog shares: its title and text, how it is run (absolute path, argv
// of fixed flags only, the question on stdin or in a private temp file, a timeout that is a no),
// and whether this session has a display to draw it on.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ApprovalQuestion } from "../core/approval.ts";
import { isWithheldVariable } from "../core/inject.ts";
import { runHelper, type HelperResult } from "../store/exec.ts";

/** The window title: the broker's words only (no secret name, no agent text), so it may sit in argv. */
export const DIALOG_TITLE = "mcp-credentials-broker: approve access to a secret";

/** The question as a dialog shows it: one sentence per paragraph. */
export function dialogText(question: ApprovalQuestion): string {
  return question.lines.join("\n\n");
}

/**
 * The environment a dialog program gets: the broker's, without its own credentials (the
 * store key, JWT_SECRET, client secrets — the variables `run` withholds too). A dialog needs
 * the session (DISPLAY, XAUTHORITY, the D-Bus address, locale, HOME), not those.
 */
export function dialogEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !isWithheldVariable(k)));
}

/** How long a dialog waits for an answer unless MCB_APPROVAL_TIMEOUT says otherwise. */
export const DEFAULT_DIALOG_TIMEOUT_MS = 120_000;

/** A dialog program's outcome: its exit, or that it did not run, or that time ran out. */
export type DialogRun = HelperResult | { failed: string };

/**
 * Runs a dialog program to its end: `stdin` is the only channel the question may take besides
 * a private file; argv holds fixed flags. Killed at `timeoutMs` (then `timedOut`). A program
 * that cannot be started is `failed` (the caller answers "unsupported").
 */
export async function runDialog(call: { command: string; args: readonly string[]; stdin?: string; env: Record<string, string | undefined>; timeoutMs: number }): Promise<DialogRun> {
  try {
    return await runHelper({ ...call, timeoutIsAnswer: true });
  } catch (e) {
    return { failed: `${call.command} could not be started (${e instanceof Error ? e.message : String(e)})` };
  }
}

/**
 * Why no dialog can be drawn in this Linux (or BSD) session, or null when a display is there:
 * a Wayland socket ($WAYLAND_DISPLAY, relative to $XDG_RUNTIME_DIR) or an X display
 * ($DISPLAY; a local `:N` must have its socket /tmp/.X11-unix/XN, a remote one is trusted).
 */
export function linuxDisplayProblem(env: Record<string, string | undefined>, exists: (path: string) => boolean = existsSync): string | null {
  const wayland = env.WAYLAND_DISPLAY;
  if (wayland) {
    const socket = wayland.startsWith("/") ? wayland : env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, wayland) : null;
    if (socket && exists(socket)) return null;
  }
  const display = env.DISPLAY;
  if (display) {
    const local = /^(?:unix)?:(\d+)(?:\.\d+)?$/.exec(display);
    if (!local || exists(`/tmp/.X11-unix/X${local[1]}`)) return null;
    return `no display: DISPLAY=${display.slice(0, 40)} names an X server that is not running (no /tmp/.X11-unix/X${local[1]})`;
  }
  if (wayland) return `no display: WAYLAND_DISPLAY=${wayland.slice(0, 40)} names no socket`;
  return "no display (DISPLAY and WAYLAND_DISPLAY are unset: an SSH session, a container or a service)";
}
