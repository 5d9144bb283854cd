// The zenity approval dialog (GNOME and most Linux desktops): the question on stdin, never in argv.
import type { ApprovalDriver, DriverAnswer } from "../core/approval.ts";
import { DIALOG_TITLE, dialogText, runDialog, type DialogRun } from "./dialog.ts";

export interface DialogDriverOptions {
  /** Absolute path of the program (from the system directories, never PATH). */
  path: string;
  env: Record<string, string | undefined>;
  timeoutMs: number;
  /** Why no display is available now, or null (linuxDisplayProblem). */
  displayProblem: () => string | null;
}

/**
 * zenity's argv: fixed flags only. `--text-info` reads the text it shows from stdin and shows
 * it as plain text — no Pango markup, unlike `--question --text=…`, whose text would also sit
 * in argv where other users can read it (/proc/<pid>/cmdline). Allow is the default button
 * (Return), Deny and Escape refuse; `--timeout` closes it with exit 5.
 */
export function zenityArgs(timeoutMs: number): string[] {
  return [
    "--text-info",
    `--title=${DIALOG_TITLE}`,
    "--ok-label=Allow",
    "--cancel-label=Deny",
    "--width=560",
    "--height=240",
    `--timeout=${Math.max(1, Math.ceil(timeoutMs / 1000))}`,
  ];
}

/**
 * Reads zenity's exit (zenity(1) "EXIT STATUS": 0 OK, 1 Cancel or closed, 5 timeout, -1 error).
 * Exit 0 is Allow except when the window was destroyed under zenity (another X client can do
 * that; zenity then also exits 0, after GDK's "unexpectedly destroyed" warning): that is no
 * answer. Exit 1 is a no, unless zenity could not open the display at all.
 */
export function zenityAnswer(r: DialogRun): DriverAnswer {
  if ("failed" in r) return { answer: "unsupported", why: r.failed };
  if (r.timedOut) return { answer: "timeout" };
  if (r.code === 0) return /unexpectedly destroyed/i.test(r.stderr) ? { answer: "cancel" } : { answer: "accept" };
  if (r.code === 5) return { answer: "timeout" };
  if (/cannot open display/i.test(r.stderr)) return { answer: "unsupported", why: "zenity could not open the display" };
  if (r.code === 1) return { answer: "decline" };
  return { answer: "unsupported", why: `zenity failed (exit ${r.code})` };
}

/** Asks with a zenity dialog on this session's display. */
export function zenityApprover(opts: DialogDriverOptions): ApprovalDriver {
  return {
    id: "zenity",
    kind: "os",
    unavailable: opts.displayProblem,
    async ask(question) {
      // zenity's own --timeout answers first; ours (up to 5 s later) only stops a hung one.
      const r = await runDialog({ command: opts.path, args: zenityArgs(opts.timeoutMs), stdin: dialogText(question), env: opts.env, timeoutMs: opts.timeoutMs + Math.min(5_000, opts.timeoutMs) });
      return zenityAnswer(r);
    },
  };
}
