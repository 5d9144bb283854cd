// `confirm` approved outside the agent's client, through the compiled binary: an SDK Client
// WITHOUT elicitation support calls get_secret + resolve_secret, the broker opens a real zenity
// dialog on a real X server (Xvfb), and a person's keys (xdotool) answer it. Remembered
// approvals, their listing and revocation, timeouts and the refusals' wording are checked the
// same way; the screenshot of the dialog is read back by OCR.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { displaySuiteCanRun, startXvfb, type VirtualDisplay } from "../support/xvfb.ts";
import { body, connectBroker, runCli, tempHome, type Connected } from "./harness.ts";

const canRun = process.platform === "linux" && displaySuiteCanRun("approval dialogs through the binary (Xvfb + zenity)");
const WINDOW = "approve access to a secret";

describe.skipIf(!canRun)("confirm through the OS dialog (real zenity on Xvfb)", () => {
  let x: VirtualDisplay;
  const home = tempHome("mcb-approval-");
  const value = `CANARY-${randomUUID()}`;
  const open: Connected[] = [];

  beforeAll(async () => {
    x = await startXvfb();
    expect((await runCli(["secret", "set", "release-token", "--policy", "confirm"], { home, input: value })).code).toBe(0);
  });
  afterAll(async () => {
    for (const c of open) await c.close().catch(() => {});
    await x?.stop();
  });

  const env = (extra: Record<string, string> = {}) => ({ DISPLAY: x.display, MCB_APPROVAL_TIMEOUT: "20", ...extra });

  /** A client named `name` without elicitation (unless `elicit` answers for its user). */
  async function client(name: string, opts: { env?: Record<string, string>; elicit?: "accept" } = {}) {
    const asked: string[] = [];
    const c = await connectBroker({
      home,
      clientName: name,
      env: opts.env ?? env(),
      clientOptions: opts.elicit ? { capabilities: { elicitation: { form: {} } } } : undefined,
      setup: (cl) => {
        if (opts.elicit) cl.setRequestHandler(ElicitRequestSchema, (req) => (asked.push(String(req.params.message)), { action: opts.elicit! }));
      },
    });
    open.push(c);
    /** get_secret then resolve_secret; the resolve's result once it settles. */
    const resolve = async (purpose: string) => {
      const ref = body(await c.client.callTool({ name: "get_secret", arguments: { name: "release-token", purpose } }));
      expect(ref.success).toBe(true);
      return body(await c.client.callTool({ name: "resolve_secret", arguments: { reference_id: ref.reference.id } }));
    };
    return { c, asked, resolve };
  }

  /** Resolves while `act` answers the dialog that must open for it. */
  async function resolveAnswering(resolve: Promise<Record<string, any>>, act: (win: string) => Promise<void>) {
    const win = await x.waitForWindow(WINDOW);
    await act(win);
    const r = await resolve;
    await x.waitForNoWindow(WINDOW);
    return r;
  }

  /** Resolves and checks that no dialog opened meanwhile. */
  async function resolveWithoutDialog(resolve: Promise<Record<string, any>>) {
    let sawWindow = false;
    let done = false;
    const watch = (async () => {
      while (!done) {
        if ((await x.windows(WINDOW)).length) sawWindow = true;
        await Bun.sleep(25);
      }
    })();
    const r = await resolve;
    done = true;
    await watch;
    expect(sawWindow).toBe(false);
    return r;
  }

  const auditLines = async () => JSON.parse((await runCli(["audit", "--json", "--name", "release-token"], { home })).stdout) as Record<string, any>[];
  const lastResolve = async () => (await auditLines()).filter((l) => l.event === "resolve").at(-1)!;

  it("doctor says zenity works here and is the OS dialog", async () => {
    const r = await runCli(["doctor", "--json"], { home, env: env() });
    const rows = JSON.parse(r.stdout).approval as { driver: string; works: boolean; used?: boolean }[];
    expect(rows.find((d) => d.driver === "zenity")).toMatchObject({ works: true, used: true });
  });

  it("accepted in the dialog: the value comes back; the dialog showed the secret, the client and the quoted purpose", async () => {
    const jwtSecret = `JWT-${randomUUID()}-${randomUUID()}`;
    const { resolve } = await client("e2e-client", { env: env({ JWT_SECRET: jwtSecret }) });
    const shot = join(tmpdir(), `mcb-e2e-approval-${process.pid}.png`);
    const r = await resolveAnswering(resolve("create the v2 release"), async (win) => {
      await x.screenshot(shot);
      if (process.env.MCB_SCREENSHOT_OUT) await Bun.write(process.env.MCB_SCREENSHOT_OUT, Bun.file(shot));
      expect(await x.copyText(win)).toBe(`The MCP client "e2e-client" wants the value of the secret 'release-token'.\n\nThe agent says it needs it for: "create the v2 release".\n\nAllow this once?`);
      const seen = (await x.ocrWindow(win, shot)).replace(/\s+/g, " ");
      for (const words of ["release-token", "e2e-client", "create the v2 release", "The agent says it needs it for", "Allow", "Deny"]) expect(seen).toContain(words);
      // The dialog runs with the session's variables, not the broker's own credentials.
      const dialogEnv = await x.ownerEnv(win);
      expect(dialogEnv.DISPLAY).toBe(x.display);
      expect(dialogEnv.JWT_SECRET).toBeUndefined();
      expect(JSON.stringify(dialogEnv)).not.toContain(value);
      await x.keys(win, "Return");
    });
    expect(r).toEqual({ success: true, value });
    expect(await lastResolve()).toMatchObject({ client: "e2e-client", purpose: "create the v2 release", consent: "accept", approver: "zenity", outcome: "ok" });
  }, 30_000);

  it("refused in the dialog: a clear tool error, no value, and an audit line naming the dialog", async () => {
    const { resolve } = await client("e2e-client");
    const r = await resolveAnswering(resolve("try once more"), (win) => x.keys(win, "Tab", "space"));
    expect(r.success).toBe(false);
    expect(r.error).toBe("The user declined the request for the secret 'release-token' in the zenity dialog. Do not retry unless the user asks you to.");
    expect(JSON.stringify(r)).not.toContain(value);
    expect(await lastResolve()).toMatchObject({ client: "e2e-client", consent: "decline", approver: "zenity", outcome: "error", error: "CONSENT_DECLINED" });
  }, 30_000);

  it("no answer in time (MCB_APPROVAL_TIMEOUT) is a no", async () => {
    const { resolve } = await client("e2e-client", { env: env({ MCB_APPROVAL_TIMEOUT: "2" }) });
    const pending = resolve("wait for me");
    await x.waitForWindow(WINDOW);
    const r = await pending;
    expect(r.error).toContain("Nobody answered the request for the secret 'release-token' in time (zenity), which counts as no.");
    await x.waitForNoWindow(WINDOW);
    expect(await lastResolve()).toMatchObject({ consent: "timeout", approver: "zenity", error: "CONSENT_DECLINED" });
  }, 30_000);

  it("--remember: the next call within the time passes without a dialog, is listed by `secret approvals`, and expires on time", async () => {
    expect((await runCli(["secret", "policy", "release-token", "confirm", "--remember", "4s"], { home })).code).toBe(0);
    const { resolve } = await client("e2e-client");
    const first = await resolveAnswering(resolve("task step 1"), async (win) => {
      expect(await x.copyText(win)).toEndWith("Allow it now and for the next 4s (this secret, this client)?");
      await x.keys(win, "Return");
    });
    const approvedAt = Date.now();
    expect(first).toEqual({ success: true, value });
    const listedByTool = body(await (await client("lister")).c.client.callTool({ name: "list_secrets", arguments: {} }));
    expect(listedByTool.secrets).toEqual([expect.objectContaining({ name: "release-token", policy: "confirm", approval: { via: "any", rememberSeconds: 4 } })]);
    expect(await lastResolve()).toMatchObject({ consent: "accept", approver: "zenity", rememberFor: 4 });

    const listed = JSON.parse((await runCli(["secret", "approvals", "--json"], { home })).stdout);
    expect(listed).toEqual([expect.objectContaining({ name: "release-token", client: "e2e-client", approver: "zenity" })]);
    expect((await runCli(["secret", "approvals"], { home })).stdout).toMatch(/^release-token\te2e-client\tapproved via zenity\t\d+s left/);

    expect(await resolveWithoutDialog(resolve("task step 2"))).toEqual({ success: true, value });
    expect(await lastResolve()).toMatchObject({ consent: "accept", approver: "remembered", outcome: "ok" });

    await Bun.sleep(Math.max(0, approvedAt + 4_100 - Date.now()));
    const late = await resolveAnswering(resolve("task step 3"), (win) => x.keys(win, "Escape"));
    expect(late.success).toBe(false);
    expect(JSON.parse((await runCli(["secret", "approvals", "--json"], { home })).stdout)).toEqual([]);
  }, 30_000);

  it("a remembered approval never crosses client names, and `secret approvals --clear` and `secret policy` revoke it", async () => {
    expect((await runCli(["secret", "policy", "release-token", "confirm", "--remember", "1h"], { home })).code).toBe(0);
    const a = await client("client-a");
    expect(await resolveAnswering(a.resolve("a: step 1"), (w) => x.keys(w, "Return"))).toEqual({ success: true, value });
    // Another client (its own broker process, another name): asked again.
    const b = await client("client-b");
    expect((await resolveAnswering(b.resolve("b: step 1"), (w) => x.keys(w, "Escape"))).success).toBe(false);
    expect(await resolveWithoutDialog(a.resolve("a: step 2"))).toEqual({ success: true, value });

    const cleared = await runCli(["secret", "approvals", "--clear"], { home });
    expect(cleared.stdout).toBe("Revoked 1 remembered approval.\n");
    expect(await resolveAnswering(a.resolve("a: step 3"), (w) => x.keys(w, "Return"))).toEqual({ success: true, value });
    expect(await resolveWithoutDialog(a.resolve("a: step 4"))).toEqual({ success: true, value });

    const policy = await runCli(["secret", "policy", "release-token", "confirm", "--remember", "1h"], { home });
    expect(policy.stderr).toContain("Approvals remembered for it were revoked.");
    expect((await resolveAnswering(a.resolve("a: step 5"), (w) => x.keys(w, "Escape"))).success).toBe(false);
  }, 40_000);

  it("routing: --via any prefers the OS dialog over the client's elicitation; --via client uses the elicitation only", async () => {
    expect((await runCli(["secret", "policy", "release-token", "confirm"], { home })).code).toBe(0);
    const eliciting = await client("eliciting-client", { elicit: "accept" });
    expect(await resolveAnswering(eliciting.resolve("any"), (w) => x.keys(w, "Return"))).toEqual({ success: true, value });
    expect(eliciting.asked).toEqual([]);
    expect((await runCli(["secret", "policy", "release-token", "confirm", "--via", "client"], { home })).code).toBe(0);
    expect(await resolveWithoutDialog(eliciting.resolve("client"))).toEqual({ success: true, value });
    expect(eliciting.asked).toHaveLength(1);
    expect(await lastResolve()).toMatchObject({ approver: "client", consent: "accept" });
  }, 30_000);

  it("no display and no elicitation: refused, naming both ways to enable approval", async () => {
    expect((await runCli(["secret", "policy", "release-token", "confirm"], { home })).code).toBe(0);
    const { resolve } = await client("plain-client", { env: {} });
    const r = await resolve("headless");
    expect(r.error).toBe(
      "The secret 'release-token' has policy 'confirm': the user must approve each use, but nobody can be asked here (no display (DISPLAY and WAYLAND_DISPLAY are unset: an SSH session, a container or a service); this MCP client does not support MCP form elicitation). Ask the user to run the broker in a desktop session (it then shows its own dialog), or to use an MCP client that supports form elicitation; or to give the tool server the secret with `mcp-credentials-broker run`.",
    );
    expect((await runCli(["secret", "policy", "release-token", "confirm", "--via", "os"], { home })).code).toBe(0);
    expect((await resolve("headless, os only")).error).toContain("or to let the MCP client ask instead: `mcp-credentials-broker secret policy release-token confirm --via any`");
  }, 30_000);

  it("`secret get` asks in the dialog too when there is a display (an agent driving a terminal cannot answer it)", async () => {
    expect((await runCli(["secret", "policy", "release-token", "confirm"], { home })).code).toBe(0);
    const got = runCli(["secret", "get", "release-token"], { home, env: env() });
    const win = await x.waitForWindow(WINDOW);
    expect(await x.copyText(win)).toBe("The secret 'release-token' has policy 'confirm'.\n\nPrint its value?");
    await x.keys(win, "Return");
    expect(await got).toMatchObject({ code: 0, stdout: value });
    expect(await lastResolve()).toMatchObject({ client: "cli", consent: "accept", approver: "zenity" });
  }, 30_000);

  it("the CLI rejects bad --via / --remember with a usage error", async () => {
    const bad = await runCli(["secret", "policy", "release-token", "confirm", "--via", "dialog"], { home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Use one of: any, os, client.");
    const long = await runCli(["secret", "policy", "release-token", "confirm", "--remember", "2d"], { home });
    expect(long.code).toBe(2);
    expect(long.stderr).toContain("is not a duration from 1s to 8h");
    const notConfirm = await runCli(["secret", "policy", "release-token", "allow", "--remember", "10m"], { home });
    expect(notConfirm.code).toBe(2);
    expect(notConfirm.stderr).toContain("apply to policy 'confirm' only");
  });
});
