// The clock port's sleep ends at once when its signal aborts: a wait the user cancelled (a
// device login given up on) does not keep the process for the rest of the interval.
import { describe, expect, it } from "bun:test";
import { ManualClock, systemClock } from "../../src/core/clock.ts";

describe("Clock.sleep", () => {
  it("systemClock: sleeps for ms without a signal", async () => {
    const t0 = performance.now();
    await systemClock.sleep(30);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it("systemClock: resolves as soon as the signal aborts, and at once for an aborted one", async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    setTimeout(() => ac.abort(), 20);
    await systemClock.sleep(60_000, ac.signal);
    expect(performance.now() - t0).toBeLessThan(5_000);
    const t1 = performance.now();
    await systemClock.sleep(60_000, ac.signal);
    expect(performance.now() - t1).toBeLessThan(1_000);
  });

  it("ManualClock: advances by ms, not at all for an aborted signal", async () => {
    const clock = new ManualClock(1000);
    await clock.sleep(500);
    expect(clock.now()).toBe(1500);
    await clock.sleep(500, AbortSignal.abort());
    expect(clock.now()).toBe(1500);
  });
});
