// The approval use case on scripted drivers and a manual clock: which driver asks for each
// `via`, falling back when a dialog cannot be shown, and approvals remembered per secret ×
// client name until they expire or are revoked.
import { describe, expect, it } from "bun:test";
import { Approvals, formatDuration, MAX_REMEMBER_SECONDS, parseRememberDuration, type ApprovalRequest } from "../../src/core/approval.ts";
import { ManualClock } from "../../src/core/clock.ts";
import type { ApprovalVia } from "../../src/core/store.ts";
import { MemoryLedger, scriptedDriver } from "../support/approval-drivers.ts";
import { BrokerError } from "../../src/errors.ts";

const lines = ["q"];
const request = (over: Partial<ApprovalRequest> = {}): ApprovalRequest => ({ name: "gh", client: "claude", settings: { via: "any" }, lines, ...over });

describe("Approvals: which driver asks", () => {
  const os = (state: "works" | "unavailable" | "fails" | "none") =>
    state === "none" ? null : scriptedDriver({ id: "zenity", unavailableBecause: state === "unavailable" ? "no display" : undefined, answers: state === "fails" ? [{ answer: "unsupported", why: "zenity could not open the display" }] : ["accept"] });
  const client = (state: "works" | "unavailable" | "none") => (state === "none" ? undefined : scriptedDriver({ id: "client", unavailableBecause: state === "unavailable" ? "no elicitation" : undefined }));

  it.each([
    // via, OS dialog, client → who answers, why the others could not
    ["any", "works", "works", "zenity", []],
    ["any", "unavailable", "works", "client", ["no display"]],
    ["any", "fails", "works", "client", ["zenity could not open the display"]],
    ["any", "none", "works", "client", []],
    ["any", "unavailable", "unavailable", "nobody", ["no display", "no elicitation"]],
    ["any", "unavailable", "none", "nobody", ["no display"]],
    ["os", "works", "works", "zenity", []],
    ["os", "unavailable", "works", "nobody", ["no display"]],
    ["os", "fails", "works", "nobody", ["zenity could not open the display"]],
    ["client", "works", "works", "client", []],
    ["client", "works", "unavailable", "nobody", ["no elicitation"]],
  ] as const)("via %s, OS dialog %s, client %s → %s", async (via, osState, clientState, who, why) => {
    const osDriver = os(osState);
    const clientDriver = client(clientState);
    const approvals = new Approvals({ clock: new ManualClock(), os: osDriver });
    const outcome = await approvals.approve(request({ settings: { via: via as ApprovalVia }, clientDriver }));
    expect(outcome.answer).toBe(who !== "nobody" ? "accept" : "unsupported");
    expect(outcome.approver).toBe(who !== "nobody" ? who : undefined);
    expect(outcome.unavailable).toEqual([...why]);
    // A driver that cannot ask is never asked; one that asked got the question.
    if (osDriver) expect(osDriver.asked).toHaveLength(osState !== "unavailable" && via !== "client" ? 1 : 0);
    if (clientDriver) expect(clientDriver.asked).toHaveLength(who === "client" ? 1 : 0);
  });

  it("a no from the OS dialog is final: the client is not asked instead", async () => {
    for (const answer of ["decline", "cancel", "timeout"] as const) {
      const clientDriver = scriptedDriver({ id: "client" });
      const approvals = new Approvals({ clock: new ManualClock(), os: scriptedDriver({ id: "zenity", answers: [answer] }) });
      expect(await approvals.approve(request({ clientDriver }))).toMatchObject({ answer, approver: "zenity" });
      expect(clientDriver.asked).toEqual([]);
    }
  });
});

describe("Approvals: remembered", () => {
  const setup = (opts: { remember?: boolean; answers?: ("accept" | "decline")[] } = {}) => {
    const clock = new ManualClock();
    const ledger = new MemoryLedger();
    const os = scriptedDriver({ id: "zenity", answers: opts.answers ?? ["accept"] });
    const approvals = new Approvals({ clock, os, ledger, remember: opts.remember ?? true });
    return { clock, ledger, os, approvals };
  };
  const remembering = (seconds = 600, over: Partial<ApprovalRequest> = {}) => request({ settings: { via: "any", rememberSeconds: seconds }, ...over });

  it("lets the same secret and client through without asking until the time is up, then asks again", async () => {
    const { clock, os, approvals, ledger } = setup();
    expect(await approvals.approve(remembering())).toMatchObject({ answer: "accept", approver: "zenity", rememberFor: 600 });
    expect(ledger.entries.size).toBe(1);
    clock.advance(599_000);
    expect(await approvals.approve(remembering())).toEqual({ answer: "accept", approver: "remembered", rememberFor: 1, unavailable: [] });
    clock.advance(1_000);
    expect(await approvals.approve(remembering())).toMatchObject({ answer: "accept", approver: "zenity", rememberFor: 600 });
    expect(os.asked).toHaveLength(2);
  });

  it("never crosses client names or secrets", async () => {
    const { os, approvals } = setup();
    await approvals.approve(remembering());
    expect((await approvals.approve(remembering(600, { client: "claude " }))).approver).toBe("zenity");
    expect((await approvals.approve(remembering(600, { client: "other" }))).approver).toBe("zenity");
    expect((await approvals.approve(remembering(600, { name: "gh2" }))).approver).toBe("zenity");
    expect((await approvals.approve(remembering(600, { name: "gh\u0000claude" }))).approver).toBe("zenity");
    expect((await approvals.approve(remembering())).approver).toBe("remembered");
    expect(os.asked).toHaveLength(5);
  });

  it("is revoked through the ledger (`secret approvals --clear` in another process) and by forget (`secret policy`)", async () => {
    const { approvals, ledger } = setup();
    await approvals.approve(remembering());
    ledger.clear();
    expect((await approvals.approve(remembering())).approver).toBe("zenity");
    approvals.forget("gh");
    expect(ledger.entries.size).toBe(0);
    expect((await approvals.approve(remembering())).approver).toBe("zenity");
  });

  it("honours only approvals this process was given: a ledger entry alone approves nothing", async () => {
    const { approvals, ledger, os } = setup();
    ledger.add({ name: "gh", client: "claude", expiresAt: Number.MAX_SAFE_INTEGER });
    expect((await approvals.approve(remembering())).approver).toBe("zenity");
    expect(os.asked).toHaveLength(1);
  });

  it("remembers nothing for a no, without `--remember`, without a client name, or in a process that does not serve", async () => {
    const a = setup({ answers: ["decline", "accept"] });
    await a.approvals.approve(remembering());
    expect((await a.approvals.approve(remembering())).approver).toBe("zenity");
    const b = setup();
    await b.approvals.approve(request());
    expect((await b.approvals.approve(request())).approver).toBe("zenity");
    await b.approvals.approve(remembering(600, { client: undefined }));
    expect((await b.approvals.approve(remembering(600, { client: undefined }))).approver).toBe("zenity");
    const c = setup({ remember: false });
    expect((await c.approvals.approve(remembering())).rememberFor).toBeUndefined();
    expect((await c.approvals.approve(remembering())).approver).toBe("zenity");
    expect(c.ledger.entries.size).toBe(0);
  });

  it("caps the time at MAX_REMEMBER_SECONDS, and counts from the answer, not the question", async () => {
    const { approvals, clock } = setup();
    const slow = scriptedDriver({ id: "zenity" });
    const ask = slow.ask.bind(slow);
    slow.ask = async (q) => (clock.advance(30_000), ask(q));
    const timed = new Approvals({ clock, os: slow, ledger: new MemoryLedger(), remember: true });
    expect((await approvals.approve(remembering(10 * MAX_REMEMBER_SECONDS))).rememberFor).toBe(MAX_REMEMBER_SECONDS);
    await timed.approve(remembering(60));
    clock.advance(59_000);
    expect((await timed.approve(remembering(60))).approver).toBe("remembered");
  });

  it("a ledger that cannot write: the approval counts once and is not remembered", async () => {
    const clock = new ManualClock();
    const ledger = Object.assign(new MemoryLedger(), { add: () => null });
    const approvals = new Approvals({ clock, os: scriptedDriver({ id: "zenity" }), ledger, remember: true });
    expect(await approvals.approve(remembering())).toMatchObject({ answer: "accept", approver: "zenity" });
    expect((await approvals.approve(remembering())).approver).toBe("zenity");
  });
});

describe("parseRememberDuration / formatDuration", () => {
  it.each([
    ["90s", 90],
    ["10m", 600],
    ["2h", 7200],
    ["45", 45],
    ["8h", MAX_REMEMBER_SECONDS],
  ])("%s → %d s", (raw, s) => {
    expect(parseRememberDuration(raw)).toBe(s);
  });

  it.each(["0s", "9h", "10 m", "1d", "-5m", "", "1.5h", "10mm", "x".repeat(100)])("refuses %j with INVALID_INPUT", (raw) => {
    expect(() => parseRememberDuration(raw)).toThrow(BrokerError);
    expect(() => parseRememberDuration(raw)).toThrow("Use e.g. 90s, 10m or 2h.");
  });

  it.each([
    [45, "45s"],
    [600, "10m"],
    [610, "10m10s"],
    [3600, "1h"],
    [5400, "1h30m"],
  ])("%d s → %s", (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });
});
