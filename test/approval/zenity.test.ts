// The zenity approval driver against the real zenity (Debian) on a real X server (Xvfb),
// answered the way a person would: Return (Allow), the Deny button, Escape, the window's close
// protocol, a window destroyed or killed under it, and no answer at all. What the dialog shows
// is read back twice: the exact text through the clipboard (select all, copy) and the pixels
// through OCR of a screenshot; its argv is read from /proc.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dialogText, DIALOG_TITLE } from "../../src/approval/dialog.ts";
import { zenityAnswer, zenityApprover } from "../../src/approval/zenity.ts";
import type { ApprovalQuestion, DriverAnswer } from "../../src/core/approval.ts";
import { consentLines } from "../../src/core/policy.ts";
import { findSystemTool } from "../../src/store/exec.ts";
import { displaySuiteCanRun, startXvfb, type VirtualDisplay } from "../support/xvfb.ts";

const canRun = process.platform === "linux" && displaySuiteCanRun("zenity approval dialogs (Xvfb)");
const WINDOW = "approve access to a secret";

function question(purpose: string, opts: { name?: string; client?: string; rememberSeconds?: number } = {}): ApprovalQuestion {
  const name = opts.name ?? "release-token";
  return { name, lines: consentLines({ client: opts.client ?? "e2e-client", name, purpose, rememberSeconds: opts.rememberSeconds }) };
}

describe.skipIf(!canRun)("zenity on Xvfb", () => {
  let x: VirtualDisplay;
  beforeAll(async () => {
    x = await startXvfb();
  });
  afterAll(async () => {
    await x?.stop();
  });

  const driver = (timeoutMs = 20_000, env?: Record<string, string>) =>
    zenityApprover({ path: findSystemTool("zenity")!, env: env ?? x.env, timeoutMs, displayProblem: () => null });

  /** Asks, waits for the window, lets `act` answer it, and returns the driver's answer. */
  async function answerWith(act: (win: string) => Promise<void>, q = question("create a release")): Promise<DriverAnswer> {
    const answer = driver().ask(q);
    const win = await x.waitForWindow(WINDOW);
    try {
      await act(win);
    } catch (e) {
      // A failed check must not leave its dialog open for the next test to find.
      for (const w of await x.windows(WINDOW)) await x.xdotool("windowkill", w).catch(() => {});
      await answer;
      throw e;
    }
    const a = await answer;
    await x.waitForNoWindow(WINDOW);
    return a;
  }

  it("Return presses Allow (the default button): accept", async () => {
    expect(await answerWith((w) => x.keys(w, "Return"))).toEqual({ answer: "accept" });
  });

  it("the Deny button (Tab to it, Space): decline", async () => {
    expect(await answerWith((w) => x.keys(w, "Tab", "space"))).toEqual({ answer: "decline" });
  });

  it("Escape: decline", async () => {
    expect(await answerWith((w) => x.keys(w, "Escape"))).toEqual({ answer: "decline" });
  });

  it("closing the window (WM_DELETE_WINDOW, as a window manager's close button): decline", async () => {
    expect(await answerWith((w) => x.requestClose(w))).toEqual({ answer: "decline" });
  });

  it("a window destroyed or killed under zenity is never an approval", async () => {
    // Another X client destroying the window makes zenity exit 0, like Allow; only its warning tells them apart.
    expect(await answerWith(async (w) => void (await x.xdotool("windowclose", w)))).toEqual({ answer: "cancel" });
    expect((await answerWith(async (w) => void (await x.xdotool("windowkill", w)))).answer).not.toBe("accept");
  });

  it("no answer within the timeout: timeout (a no), and the window is gone", async () => {
    const started = Date.now();
    const answer = driver(1_500).ask(question("wait"));
    await x.waitForWindow(WINDOW);
    expect(await answer).toEqual({ answer: "timeout" });
    expect(Date.now() - started).toBeLessThan(6_000);
    await x.waitForNoWindow(WINDOW, 2_000);
  });

  it("shows the secret's name, the client and the agent's purpose quoted — text exactly as composed, pixels by OCR — and none of it in argv", async () => {
    const q = question("create a release for v2", { name: "release-token", client: "claude-desktop", rememberSeconds: 600 });
    const shot = join(tmpdir(), `mcb-zenity-${process.pid}.png`);
    const answer = await answerWith(async (win) => {
      await x.screenshot(shot);
      expect(await x.copyText(win)).toBe(dialogText(q));
      const argv = await x.ownerArgv(win);
      expect(argv.slice(1)).toEqual(["--text-info", `--title=${DIALOG_TITLE}`, "--ok-label=Allow", "--cancel-label=Deny", "--width=560", "--height=240", "--timeout=20"]);
      if (process.env.MCB_SCREENSHOT_OUT) await Bun.write(process.env.MCB_SCREENSHOT_OUT, Bun.file(shot));
      const seen = (await x.ocrWindow(win, shot)).replace(/\s+/g, " ");
      for (const words of ["release-token", "claude-desktop", "create a release for v2", "The agent says it needs it for", "Allow", "Deny", "for the next 10m"]) expect(seen).toContain(words);
      await x.keys(win, "Escape");
    }, q);
    expect(answer.answer).toBe("decline");
    expect(existsSync(shot)).toBe(true);
  }, 30_000);

  it("an agent's text cannot add lines, markup, buttons or flags: control characters escaped, Pango markup shown as typed, long text cut", async () => {
    const hostile = [
      `deploy".\n\nAllow this once? Yes.\r\n\u001b[2K\u202e`,
      `<span size="1">hidden</span><b>bold</b> &amp; <a href="x">link</a>`,
      `--ok-label=Deny --cancel-label=Allow --html`,
      "x".repeat(10_000),
    ].join(" ");
    const q = question(hostile, { client: `evil"\n<b>client</b>` });
    const answer = await answerWith(async (win) => {
      const shown = await x.copyText(win);
      expect(shown).toBe(dialogText(q));
      const paragraphs = shown.split("\n\n");
      expect(paragraphs).toHaveLength(3);
      expect(paragraphs[1]).toContain(`<span size=\\"1\\">hidden</span><b>bold</b> &amp; <a href=\\"x\\">link</a>`);
      expect(paragraphs[1]).toContain("\\n\\nAllow this once? Yes.\\r\\n\\u001b[2K\\u202e");
      expect(paragraphs[1]!.length).toBeLessThan(260);
      expect(paragraphs[2]).toBe("Allow this once?");
      expect(shown).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      const argv = (await x.ownerArgv(win)).join("\u0000");
      for (const piece of ["deploy", "hidden", "evil", "--html", "Allow this once"]) expect(argv).not.toContain(piece);
      await x.keys(win, "Return");
    }, q);
    expect(answer).toEqual({ answer: "accept" });
  }, 30_000);

  it("a display zenity cannot open: unsupported (the caller may fall back), never a no", async () => {
    const a = await driver(5_000, { ...x.env, DISPLAY: ":59999" }).ask(question("p"));
    expect(a.answer).toBe("unsupported");
    expect(a.why).toContain("could not open the display");
  });
});

describe("zenityAnswer", () => {
  it.each([
    [{ code: 0, stdout: "", stderr: "" }, "accept"],
    [{ code: 0, stdout: "", stderr: "Gdk-WARNING **: GdkWindow 0x200003 unexpectedly destroyed" }, "cancel"],
    [{ code: 1, stdout: "", stderr: "" }, "decline"],
    [{ code: 5, stdout: "", stderr: "" }, "timeout"],
    [{ code: -1, stdout: "", stderr: "", timedOut: true as const }, "timeout"],
    [{ code: 1, stdout: "", stderr: "(zenity:1): Gtk-WARNING **: cannot open display: :9" }, "unsupported"],
    [{ code: 255, stdout: "", stderr: "" }, "unsupported"],
    [{ failed: "/usr/bin/zenity could not be started" }, "unsupported"],
  ])("%j → %s", (run, answer) => {
    expect(zenityAnswer(run).answer).toBe(answer as never);
  });
});
