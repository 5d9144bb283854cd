// The Windows approval driver against a recording fake of PowerShell: fixed flags in argv, a
// fixed script on stdin with the question only base64-encoded, and each answer read right.
import { describe, expect, it } from "bun:test";
import { dialogText } from "../../src/approval/dialog.ts";
import { POWERSHELL_DIALOG_ARGS, powershellApprover } from "../../src/approval/powershell.ts";
import type { ApprovalQuestion } from "../../src/core/approval.ts";
import { consentLines } from "../../src/core/policy.ts";
import { useFakeHelpers } from "../support/fake-helpers.ts";

const fakes = useFakeHelpers();
const question = (purpose: string): ApprovalQuestion => ({ name: "gh", lines: consentLines({ client: "claude", name: "gh", purpose }) });
const driver = (timeoutMs = 10_000, env: Record<string, string> = { ...fakes.env, SESSIONNAME: "Console" }) => powershellApprover({ path: fakes.powershellDialog, env, timeoutMs, exists: () => true });

const HOSTILE = [`x'); Remove-Item -Recurse ~; ('`, "$(Start-Process calc)", "`n`r line\nbreak", "@\"\nhere-string\n\"@ & | ; # <# #>"];

describe("PowerShell approval driver (recording fake)", () => {
  it.each([
    ["normal", "accept"],
    ["deny", "decline"],
  ])("the user's answer %s → %s", async (mode, answer) => {
    fakes.setMode(mode);
    expect(await driver().ask(question("create a release"))).toEqual({ answer: answer as never });
  });

  it("no interactive desktop: 'unsupported' (any falls back to the client)", async () => {
    fakes.setMode("no-desktop");
    expect((await driver().ask(question("p"))).answer).toBe("unsupported");
  });

  it("a MessageBox nobody answers is killed at the timeout: timeout", async () => {
    fakes.setMode("hang");
    const started = Date.now();
    expect(await driver(300).ask(question("p"))).toEqual({ answer: "timeout" });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it.each(HOSTILE)("the question is only base64 on stdin, argv is fixed: %j", async (purpose) => {
    const q = question(purpose);
    expect((await driver().ask(q)).answer).toBe("accept");
    const [call] = fakes.calls();
    expect(call!.argv).toEqual([...POWERSHELL_DIALOG_ARGS]);
    const encoded = /^\$question = .*FromBase64String\('([A-Za-z0-9+/=]*)'\)\)$/m.exec(call!.stdin)![1]!;
    expect(Buffer.from(encoded, "base64").toString("utf8")).toBe(dialogText(q));
    for (const piece of ["Remove-Item", "calc", "here-string", "claude"]) expect(call!.stdin).not.toContain(piece);
  });

  it("is offered only in an interactive session with PowerShell present", () => {
    expect(powershellApprover({ path: "C:\\x\\powershell.exe", env: { SESSIONNAME: "Console" }, timeoutMs: 1, exists: () => false }).unavailable()).toContain("was not found");
    expect(powershellApprover({ path: "C:\\x\\powershell.exe", env: {}, timeoutMs: 1, exists: () => true }).unavailable()).toContain("SESSIONNAME is unset");
    expect(powershellApprover({ path: "C:\\x\\powershell.exe", env: { SESSIONNAME: "Console" }, timeoutMs: 1, exists: () => true }).unavailable()).toBeNull();
  });
});
