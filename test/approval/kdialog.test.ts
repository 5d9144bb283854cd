// The kdialog approval driver against the real kdialog (Debian) on Xvfb: the question read from
// a private 0600 file (shown, then removed), a fixed Allow/Deny question, answered by xdotool.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { DIALOG_TITLE } from "../../src/approval/dialog.ts";
import { KDIALOG_CONFIRM_TEXT, kdialogAnswer, kdialogApprover, kdialogHtml } from "../../src/approval/kdialog.ts";
import type { ApprovalQuestion, DriverAnswer } from "../../src/core/approval.ts";
import { consentLines } from "../../src/core/policy.ts";
import { findSystemTool } from "../../src/store/exec.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { displaySuiteCanRun, startXvfb, type VirtualDisplay } from "../support/xvfb.ts";

const canRun = process.platform === "linux" && displaySuiteCanRun("kdialog approval dialogs (Xvfb)", { commands: ["kdialog"], packages: ["kdialog"] });
const WINDOW = "approve access to a secret";
const tempDir = tempDirs("mcb-kdialog-");

const question = (purpose: string): ApprovalQuestion => ({ name: "release-token", lines: consentLines({ client: "e2e-client", name: "release-token", purpose }) });

describe.skipIf(!canRun)("kdialog on Xvfb", () => {
  let x: VirtualDisplay;
  beforeAll(async () => {
    x = await startXvfb();
  });
  afterAll(async () => {
    await x?.stop();
  });

  /** Asks; `read` answers the question window, `confirm` (when it comes) the Allow/Deny one. */
  async function answerWith(read: (win: string) => Promise<void>, confirm?: (win: string) => Promise<void>, opts: { q?: ApprovalQuestion; dir?: string; timeoutMs?: number } = {}): Promise<DriverAnswer> {
    const env = { ...x.env, XDG_RUNTIME_DIR: opts.dir ?? tempDir() };
    const answer = kdialogApprover({ path: findSystemTool("kdialog")!, env, timeoutMs: opts.timeoutMs ?? 20_000, displayProblem: () => null, tempDir: opts.dir }).ask(opts.q ?? question("create a release"));
    try {
      await read(await x.waitForWindow(WINDOW));
      if (confirm) {
        await x.waitForNoWindow(WINDOW, 5_000).catch(() => {});
        await confirm(await x.waitForWindow(WINDOW));
      }
    } catch (e) {
      for (const w of await x.windows(WINDOW)) await x.xdotool("windowkill", w).catch(() => {});
      await answer;
      throw e;
    }
    const a = await answer;
    await x.waitForNoWindow(WINDOW);
    return a;
  }

  it("OK on the question, then Allow (the default): accept", async () => {
    expect(await answerWith((w) => x.keys(w, "Return"), (w) => x.keys(w, "Return"))).toEqual({ answer: "accept" });
  }, 30_000);

  it("OK on the question, then Deny: decline; Escape on either window: cancel", async () => {
    expect(await answerWith((w) => x.keys(w, "Return"), (w) => x.keys(w, "Tab", "space"))).toEqual({ answer: "decline" });
    expect(await answerWith((w) => x.keys(w, "Escape"))).toEqual({ answer: "cancel" });
    expect(await answerWith((w) => x.keys(w, "Return"), (w) => x.keys(w, "Escape"))).toEqual({ answer: "cancel" });
  }, 30_000);

  it("closing the question window refuses; no answer in time is a timeout", async () => {
    expect(await answerWith((w) => x.requestClose(w))).toMatchObject({ answer: "cancel" });
    expect(await answerWith(async () => {}, undefined, { timeoutMs: 1_500 })).toEqual({ answer: "timeout" });
  }, 30_000);

  it("shows the question from a 0600 file in a private dir, removed after; argv holds only the broker's words; markup shows as typed", async () => {
    const dir = tempDir();
    const q = question(`<b>bold</b> <img src="x"> & "quotes"`);
    const answer = await answerWith(
      async (w) => {
        const [sub] = readdirSync(dir);
        expect(statSync(join(dir, sub!)).mode & 0o777).toBe(0o700);
        expect(statSync(join(dir, sub!, "request.html")).mode & 0o777).toBe(0o600);
        const shown = await x.copyText(w);
        expect(shown).toContain(`The agent says it needs it for: "<b>bold</b> <img src=\\"x\\"> & \\"quotes\\"".`);
        expect(shown).toContain(`The MCP client "e2e-client" wants the value of the secret 'release-token'.`);
        const argv = await x.ownerArgv(w);
        expect(argv.slice(1)).toEqual(["--title", DIALOG_TITLE, "--textbox", join(dir, sub!, "request.html"), "600", "320"]);
        await x.keys(w, "Return");
      },
      async (w) => {
        expect((await x.ownerArgv(w)).slice(1)).toEqual(["--title", DIALOG_TITLE, "--warningyesno", KDIALOG_CONFIRM_TEXT, "--yes-label", "Allow", "--no-label", "Deny"]);
        await x.keys(w, "Return");
      },
      { q, dir },
    );
    expect(answer).toEqual({ answer: "accept" });
    expect(readdirSync(dir)).toEqual([]);
  }, 30_000);
});

describe("kdialogHtml", () => {
  it("escapes everything HTML gives a meaning, one paragraph per sentence, as Qt rich text", () => {
    expect(kdialogHtml({ name: "n", lines: [`a <b>"x"</b> & 'y'`, "b"] })).toBe("<qt><p>a &#60;b&#62;&#34;x&#34;&#60;/b&#62; &#38; &#39;y&#39;</p><p>b</p></qt>");
  });
});

describe("kdialogAnswer", () => {
  it.each([
    [{ code: 0, stdout: "", stderr: "" }, "confirm", "accept"],
    [{ code: 1, stdout: "", stderr: "" }, "confirm", "decline"],
    [{ code: 2, stdout: "", stderr: "" }, "confirm", "cancel"],
    [{ code: 1, stdout: "", stderr: "" }, "read", "cancel"],
    [{ code: 134, stdout: "", stderr: "qt.qpa.xcb: could not connect to display :55" }, "read", "unsupported"],
    [{ code: -1, stdout: "", stderr: "", timedOut: true as const }, "read", "timeout"],
  ])("%j at %s → %s", (run, step, answer) => {
    expect(kdialogAnswer(run, step as "read" | "confirm").answer).toBe(answer as never);
  });
});
