// The kdialog approval dialog (KDE): the question from a private temp file, never in argv.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApprovalDriver, ApprovalQuestion, DriverAnswer } from "../core/approval.ts";
import { DIALOG_TITLE, type DialogRun, runDialog } from "./dialog.ts";
import type { DialogDriverOptions } from "./zenity.ts";

/** The fixed question of the second window: the broker's words only. */
export const KDIALOG_CONFIRM_TEXT = "Allow the request shown in the previous window?";

/**
 * The question as the rich text kdialog's text box renders: every character that HTML gives
 * a meaning escaped (so an agent's `<b>`, `<a href>` or `<img>` shows as typed), sentences as
 * paragraphs, wrapped in <qt> so Qt takes it as rich text and decodes the entities.
 */
export function kdialogHtml(question: ApprovalQuestion): string {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<qt>${question.lines.map((l) => `<p>${escape(l)}</p>`).join("")}</qt>`;
}

/** Reads a kdialog exit (0 yes/OK, 1 no, 2 cancelled or closed); a Qt start failure is no dialog at all. */
export function kdialogAnswer(r: DialogRun, step: "read" | "confirm"): DriverAnswer {
  if ("failed" in r) return { answer: "unsupported", why: r.failed };
  if (r.timedOut) return { answer: "timeout" };
  if (/could not connect to display|no Qt platform plugin/i.test(r.stderr)) return { answer: "unsupported", why: "kdialog could not open the display" };
  if (r.code === 0) return { answer: "accept" };
  if (r.code === 1 && step === "confirm") return { answer: "decline" };
  if (r.code === 1 || r.code === 2) return { answer: "cancel" };
  return { answer: "unsupported", why: `kdialog failed (exit ${r.code})` };
}

/**
 * Asks with kdialog in two windows, because every kdialog question box takes its text from
 * argv: first the question, read from a 0600 file in a private temp dir (removed after), in a
 * text box; then a warning box whose fixed text asks to allow it (Allow, Deny). Closing
 * either window refuses. Both share one timeout.
 */
export function kdialogApprover(opts: DialogDriverOptions & { tempDir?: string }): ApprovalDriver {
  return {
    id: "kdialog",
    kind: "os",
    unavailable: opts.displayProblem,
    async ask(question) {
      const deadline = Date.now() + opts.timeoutMs;
      const dir = mkdtempSync(join(opts.tempDir ?? tmpdir(), "mcb-approval-"));
      try {
        const file = join(dir, "request.html");
        writeFileSync(file, kdialogHtml(question), { mode: 0o600, flag: "wx" });
        const shown = kdialogAnswer(await runDialog({ command: opts.path, args: ["--title", DIALOG_TITLE, "--textbox", file, "600", "320"], env: opts.env, timeoutMs: opts.timeoutMs }), "read");
        if (shown.answer !== "accept") return shown;
        const left = deadline - Date.now();
        if (left <= 0) return { answer: "timeout" };
        const args = ["--title", DIALOG_TITLE, "--warningyesno", KDIALOG_CONFIRM_TEXT, "--yes-label", "Allow", "--no-label", "Deny"];
        return kdialogAnswer(await runDialog({ command: opts.path, args, env: opts.env, timeoutMs: left }), "confirm");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
