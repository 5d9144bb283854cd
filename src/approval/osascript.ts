// The macOS approval dialog: AppleScript's `display dialog`, run by /usr/bin/osascript from stdin.
import type { ApprovalDriver, DriverAnswer } from "../core/approval.ts";
import { DIALOG_TITLE, dialogText, type DialogRun, runDialog } from "./dialog.ts";

/** osascript is part of macOS, always here. */
export const MACOS_OSASCRIPT = "/usr/bin/osascript";

/**
 * The AppleScript that asks. The question never becomes an AppleScript string literal: it is
 * rebuilt from its code points (`string id {…}`, AppleScript Language Guide, "text" class, `id`
 * property), so no quote or backslash an agent wrote can end the string and go on as code.
 * Deny is the cancel button (error -128, also Escape); Allow the default (Return);
 * `giving up after` closes it at the timeout. The answer is printed as a word, so only
 * "allow" on stdout approves.
 */
export function appleScript(text: string, timeoutSeconds: number): string {
  const codes = Array.from(text, (c) => c.codePointAt(0)!).join(", ");
  const title = Array.from(DIALOG_TITLE, (c) => c.codePointAt(0)!).join(", ");
  return [
    `set question to string id {${codes}}`,
    `set dialogTitle to string id {${title}}`,
    "try",
    `  set reply to display dialog question with title dialogTitle buttons {"Deny", "Allow"} default button "Allow" cancel button "Deny" with icon caution giving up after ${timeoutSeconds}`,
    "on error number -128",
    '  return "deny"',
    "end try",
    'if gave up of reply then return "timeout"',
    'if button returned of reply is "Allow" then return "allow"',
    'return "deny"',
    "",
  ].join("\n");
}

/** Reads osascript's result: the word the script printed; an error (no GUI session, -1713) is no dialog. */
export function osascriptAnswer(r: DialogRun): DriverAnswer {
  if ("failed" in r) return { answer: "unsupported", why: r.failed };
  if (r.timedOut) return { answer: "timeout" };
  const word = r.stdout.trim();
  if (r.code === 0 && word === "allow") return { answer: "accept" };
  if (r.code === 0 && word === "deny") return { answer: "decline" };
  if (r.code === 0 && word === "timeout") return { answer: "timeout" };
  return { answer: "unsupported", why: `osascript could not show the dialog (exit ${r.code}${/-1713|No user interaction/i.test(r.stderr) ? ": no user interaction allowed in this session" : ""})` };
}

/**
 * Asks with a macOS dialog. argv is empty: osascript(1) reads the script from stdin when it is
 * given no file and no -e. Not offered in an SSH session: the dialog would open on the Mac's
 * screen, not in front of the person connected.
 */
export function osascriptApprover(opts: { path?: string; env: Record<string, string | undefined>; timeoutMs: number; exists: (p: string) => boolean }): ApprovalDriver {
  const path = opts.path ?? MACOS_OSASCRIPT;
  return {
    id: "osascript",
    kind: "os",
    unavailable() {
      if (!opts.exists(path)) return `${path} was not found`;
      if (opts.env.SSH_CONNECTION || opts.env.SSH_TTY) return "an SSH session: a dialog would open on the Mac's own screen";
      return null;
    },
    async ask(question) {
      const seconds = Math.max(1, Math.ceil(opts.timeoutMs / 1000));
      const r = await runDialog({ command: path, args: [], stdin: appleScript(dialogText(question), seconds), env: opts.env, timeoutMs: opts.timeoutMs + Math.min(5_000, opts.timeoutMs) });
      return osascriptAnswer(r);
    },
  };
}
