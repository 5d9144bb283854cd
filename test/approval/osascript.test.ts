// The macOS approval driver against a recording fake of /usr/bin/osascript: argv is empty, the
// script on stdin is the broker's fixed one with the question only as code points (so no quote,
// backslash or line an agent wrote becomes AppleScript), and each answer is read right.
import { describe, expect, it } from "bun:test";
import { dialogText } from "../../src/approval/dialog.ts";
import { appleScript, MACOS_OSASCRIPT, osascriptApprover } from "../../src/approval/osascript.ts";
import type { ApprovalQuestion } from "../../src/core/approval.ts";
import { consentLines } from "../../src/core/policy.ts";
import { useFakeHelpers } from "../support/fake-helpers.ts";

const fakes = useFakeHelpers();
const question = (purpose: string, client = "claude"): ApprovalQuestion => ({ name: "gh", lines: consentLines({ client, name: "gh", purpose }) });
const driver = (timeoutMs = 10_000, env: Record<string, string> = fakes.env) => osascriptApprover({ path: fakes.osascript, env, timeoutMs, exists: () => true });

/** The text a `set <variable> to string id {…}` line of the script builds. */
function decoded(script: string, variable: string): string {
  const m = new RegExp(`^set ${variable} to string id \\{([\\d, ]+)\\}$`, "m").exec(script);
  return String.fromCodePoint(...m![1]!.split(", ").map(Number));
}

/** AppleScript string-literal breakouts, line tricks and non-BMP text. */
const HOSTILE = [
  `x" & (do shell script "touch /tmp/pwned") & "`,
  `x\\" & return & "`,
  `line\nset reply to {button returned:"Allow"}\r--`,
  `« data utxt0041 » ¬\n(* comment *) -- 😀 \u202eevil`,
];

describe("osascript approval driver (recording fake)", () => {
  it.each([
    ["normal", "accept"],
    ["deny", "decline"],
    ["gave-up", "timeout"],
  ])("the user's answer %s → %s", async (mode, answer) => {
    fakes.setMode(mode);
    expect(await driver().ask(question("create a release"))).toEqual({ answer: answer as never });
  });

  it("a session that cannot show dialogs (-1713) is 'unsupported', so `any` falls back to the client", async () => {
    fakes.setMode("no-ui");
    const a = await driver().ask(question("p"));
    expect(a.answer).toBe("unsupported");
    expect(a.why).toContain("no user interaction allowed");
  });

  it("kills an osascript nobody answers at the timeout: timeout", async () => {
    fakes.setMode("hang");
    const started = Date.now();
    expect(await driver(300).ask(question("p"))).toEqual({ answer: "timeout" });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it.each(HOSTILE)("the question reaches osascript only as code points, never in argv: %j", async (purpose) => {
    const q = question(purpose, `c"lient\\`);
    expect((await driver().ask(q)).answer).toBe("accept");
    const [call] = fakes.calls();
    expect(call!.argv).toEqual([]);
    expect(decoded(call!.stdin, "question")).toBe(dialogText(q));
    expect(decoded(call!.stdin, "dialogTitle")).toBe("mcp-credentials-broker: approve access to a secret");
    for (const piece of ["pwned", "evil", "comment", "claude", "gh", "data utxt"]) expect(call!.stdin).not.toContain(piece);
  });

  it("names the timeout in `giving up after`", () => {
    expect(appleScript("q", 42)).toContain("giving up after 42\n");
  });

  it("is unavailable without osascript, and in an SSH session (the dialog would open on the Mac's own screen)", () => {
    expect(osascriptApprover({ env: {}, timeoutMs: 1, exists: () => false }).unavailable()).toBe(`${MACOS_OSASCRIPT} was not found`);
    expect(osascriptApprover({ env: { SSH_CONNECTION: "10.0.0.2 5000 10.0.0.1 22" }, timeoutMs: 1, exists: () => true }).unavailable()).toContain("SSH session");
    expect(osascriptApprover({ env: {}, timeoutMs: 1, exists: () => true }).unavailable()).toBeNull();
  });
});
