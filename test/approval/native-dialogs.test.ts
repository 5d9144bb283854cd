// The real macOS and Windows dialogs, on their own OS (the native CI jobs). Nobody is there to
// press a button, so each is left to time out: a dialog that was shown answers "timeout"
// (macOS gives up by itself; Windows is killed at the timeout while its MessageBox waits). A
// runner that cannot show dialogs at all is a skip with the reason, printed; any other
// failure (a script the OS rejects) fails.
import { describe, expect, it } from "bun:test";
import { existsSync } from "node:fs";
import { dialogText, runDialog } from "../../src/approval/dialog.ts";
import { MACOS_OSASCRIPT, appleScript } from "../../src/approval/osascript.ts";
import { POWERSHELL_DIALOG_ARGS, powershellDialogScript } from "../../src/approval/powershell.ts";
import { consentLines } from "../../src/core/policy.ts";
import { windowsPowerShellPath } from "../../src/store/windows.ts";

const text = dialogText({ name: "gh", lines: consentLines({ client: "ci", name: "gh", purpose: `a "quoted" purpose \\ with ¬ and 😀` }) });

function skip(why: string): void {
  process.stderr.write(`SKIPPED real OS dialog: ${why}\n`);
}

describe.skipIf(process.platform !== "darwin")("osascript on macOS", () => {
  it("shows the dialog and gives up at the timeout", async () => {
    const r = await runDialog({ command: MACOS_OSASCRIPT, args: [], stdin: appleScript(text, 2), env: process.env, timeoutMs: 15_000 });
    if ("failed" in r) throw new Error(r.failed);
    if (r.code !== 0 && /-1713|No user interaction|not allowed/i.test(r.stderr)) return skip(`this runner cannot show dialogs (${r.stderr.trim()})`);
    expect({ code: r.code, out: r.stdout.trim(), err: r.stderr.trim() }).toEqual({ code: 0, out: "timeout", err: "" });
  }, 20_000);
});

describe.skipIf(process.platform !== "win32")("PowerShell MessageBox on Windows", () => {
  it("shows the MessageBox and is still waiting when killed at the timeout", async () => {
    const powershell = windowsPowerShellPath(process.env);
    expect(existsSync(powershell)).toBe(true);
    const r = await runDialog({ command: powershell, args: POWERSHELL_DIALOG_ARGS, stdin: powershellDialogScript(text), env: process.env, timeoutMs: 8_000 });
    if ("failed" in r) throw new Error(r.failed);
    if (!r.timedOut && /UserInteractive|interactive/i.test(r.stderr)) return skip(`this runner has no interactive desktop (${r.stderr.trim().split("\n")[0]})`);
    expect(r.timedOut ? "waiting for an answer" : `exited ${r.code}: ${r.stderr.trim()}`).toBe("waiting for an answer");
  }, 20_000);
});
