// The Windows approval dialog: a WinForms MessageBox shown by Windows PowerShell, script on stdin.
import type { ApprovalDriver, DriverAnswer } from "../core/approval.ts";
import { DIALOG_TITLE, dialogText, type DialogRun, runDialog } from "./dialog.ts";

/** Fixed flags only; `-Sta`: WinForms needs a single-threaded apartment. The script comes on stdin. */
export const POWERSHELL_DIALOG_ARGS = ["-NoLogo", "-NoProfile", "-NonInteractive", "-Sta", "-Command", "-"] as const;

/**
 * The script that asks. `-Command -` runs stdin line by line, so each line is one complete
 * statement. The question arrives base64-encoded (UTF-8) and is decoded into a variable, so
 * nothing an agent wrote is ever parsed as PowerShell. A MessageBox shows plain text; Yes is
 * the default button; an owner form kept on top brings it in front of other windows. The
 * answer is printed as `answer:Yes` or `answer:No`; only the first approves.
 */
export function powershellDialogScript(text: string): string {
  const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
  return [
    "$ErrorActionPreference = 'Stop'",
    "Add-Type -AssemblyName System.Windows.Forms",
    `$question = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('${b64(text)}'))`,
    `$title = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('${b64(DIALOG_TITLE)}'))`,
    "$owner = New-Object System.Windows.Forms.Form -Property @{ TopMost = $true }",
    "$reply = [System.Windows.Forms.MessageBox]::Show($owner, $question, $title, [System.Windows.Forms.MessageBoxButtons]::YesNo, [System.Windows.Forms.MessageBoxIcon]::Warning, [System.Windows.Forms.MessageBoxDefaultButton]::Button1)",
    '[Console]::Out.WriteLine("answer:" + $reply)',
    "",
  ].join("\n");
}

/** Reads the script's answer line; anything else (no desktop, PowerShell errors) is no dialog. */
export function powershellAnswer(r: DialogRun): DriverAnswer {
  if ("failed" in r) return { answer: "unsupported", why: r.failed };
  if (r.timedOut) return { answer: "timeout" };
  const m = /^answer:(\w+)\r?$/m.exec(r.stdout);
  if (r.code === 0 && m?.[1] === "Yes") return { answer: "accept" };
  if (r.code === 0 && m?.[1] === "No") return { answer: "decline" };
  return { answer: "unsupported", why: `PowerShell could not show the dialog (exit ${r.code})` };
}

/**
 * Asks with a Windows MessageBox (MessageBox has no timeout of its own: the process is
 * killed at ours). Offered only in an interactive logon session (SESSIONNAME is set there,
 * not for services or SSH logons, which have no desktop to draw on).
 */
export function powershellApprover(opts: { path: string; env: Record<string, string | undefined>; timeoutMs: number; exists: (p: string) => boolean }): ApprovalDriver {
  return {
    id: "powershell",
    kind: "os",
    unavailable() {
      if (!opts.exists(opts.path)) return `${opts.path} was not found`;
      if (!opts.env.SESSIONNAME) return "no interactive desktop (SESSIONNAME is unset: a service or an SSH session)";
      return null;
    },
    async ask(question) {
      const r = await runDialog({ command: opts.path, args: POWERSHELL_DIALOG_ARGS, stdin: powershellDialogScript(dialogText(question)), env: opts.env, timeoutMs: opts.timeoutMs });
      return powershellAnswer(r);
    },
  };
}
