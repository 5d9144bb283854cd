// Scripted approval drivers for unit tests: each answers from a list (or says why it cannot
// ask) and records the questions it was shown.
import type { ApprovalDriver, ApproverId, DriverAnswer } from "../../src/core/approval.ts";
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
