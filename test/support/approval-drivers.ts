// Scripted approval drivers for unit tests: each answers from a list (or says why it cannot
// ask) and records the questions it was shown; and a ledger of remembered approvals in memory.
import type { ApprovalDriver, ApprovalLedger, ApproverId, DriverAnswer } from "../../src/core/approval.ts";
import type { ConsentAnswer } from "../../src/core/audit.ts";

export interface ScriptedDriver extends ApprovalDriver {
  /** Every question shown, as the elicitation would show it (lines joined by spaces). */
  asked: string[];
}

/** A driver that answers `answers` in turn (the last one repeats), or is unavailable for `unavailableBecause`. */
export function scriptedDriver(opts: { id?: ApproverId; kind?: "os" | "client"; answers?: (ConsentAnswer | DriverAnswer)[]; unavailableBecause?: string }): ScriptedDriver {
  const answers = opts.answers ?? ["accept"];
  const asked: string[] = [];
  return {
    id: opts.id ?? "client",
    kind: opts.kind ?? (opts.id === undefined || opts.id === "client" || opts.id === "terminal" ? "client" : "os"),
    asked,
    unavailable: () => opts.unavailableBecause ?? null,
    async ask(q) {
      const a = answers[Math.min(asked.length, answers.length - 1)]!;
      asked.push(q.lines.join(" "));
      return typeof a === "string" ? { answer: a } : a;
    },
  };
}

/** A ledger in memory: what `secret approvals --clear` would remove is removed here. */
export class MemoryLedger implements ApprovalLedger {
  readonly entries = new Map<string, { name: string; client: string; expiresAt: number }>();
  #n = 0;
  add(e: { name: string; client: string; expiresAt: number }): string {
    const id = String(++this.#n);
    this.entries.set(id, e);
    return id;
  }
  has(id: string): boolean {
    return this.entries.has(id);
  }
  clear(name?: string): number {
    let n = 0;
    for (const [id, e] of this.entries) if (name === undefined || e.name === name) n += Number(this.entries.delete(id));
    return n;
  }
}
