// A Broker on in-memory adapters and a manual clock, for unit tests.
import { expect } from "bun:test";
import { MemoryAuditLog } from "../../src/core/audit.ts";
import { Broker, type BrokerDeps } from "../../src/core/broker.ts";
import { ManualClock } from "../../src/core/clock.ts";
import { MemoryRevocationList } from "../../src/core/revocations.ts";
import { MemoryStore } from "../../src/store/memory.ts";
import { BrokerError } from "../../src/errors.ts";

export function memoryBroker(opts: { jwtSecret?: string; clock?: ManualClock; approval?: BrokerDeps["approval"] } = {}) {
  const clock = opts.clock ?? new ManualClock();
  const audit = new MemoryAuditLog();
  const store = new MemoryStore();
  const revocations = new MemoryRevocationList(() => clock.now());
  // The deps are returned beside the broker (which keeps its own private): tests build a second broker on them.
  const deps: BrokerDeps = { store, clock, audit, revocations, jwtSecret: opts.jwtSecret, withLock: (_n, fn) => fn(), approval: opts.approval };
  const broker = new Broker(deps);
  return { broker, deps, clock, audit, store, revocations };
}

/** The code of the BrokerError `p` rejects with (fails the test when it resolves or throws something else). */
export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BrokerError);
    return (e as BrokerError).code;
  }
  throw new Error("expected a BrokerError");
}
