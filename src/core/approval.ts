// The approval port: who asks the user to approve a `confirm` secret (an OS dialog, the MCP
// client's form elicitation, the terminal), which of them a secret's settings choose, and
// approvals remembered for a while per secret × MCP client name in the serving process.
import { BrokerError } from "../errors.ts";
import type { ApprovalSettings, ApprovalVia } from "./store.ts";
import type { ConsentAnswer } from "./audit.ts";
import type { Clock } from "./clock.ts";

/** The drivers: the MCP client (elicitation), the terminal, and one OS dialog per platform. */
export type ApproverId = "client" | "terminal" | "osascript" | "zenity" | "kdialog" | "powershell";

/** The longest `--remember`: one working day. */
export const MAX_REMEMBER_SECONDS = 8 * 3600;

/** What a driver shows: the question composed by consentLines (every outside field quoted and control-free). */
export interface ApprovalQuestion {
  /** The secret's name (for drivers that need it apart from the text, e.g. a log line; never shown unquoted). */
  name: string;
  /** Sentences of the question, in order; an OS dialog puts a blank line between them, elicitation a space. */
  lines: string[];
}

/** A driver's answer; `why` says what went wrong when it is "unsupported" (the dialog could not be shown). */
export interface DriverAnswer {
  answer: ConsentAnswer;
  why?: string;
}

/**
 * One way to ask the user. `kind` "os" is a system dialog drawn outside the agent's client;
 * "client" is the MCP client's elicitation, or the terminal for CLI commands.
 */
export interface ApprovalDriver {
  readonly id: ApproverId;
  readonly kind: "os" | "client";
  /** Null when this driver can ask here now; otherwise why not, in words for the user (no display, not installed, …). */
  unavailable(): string | null;
  /**
   * Shows the question and resolves with the answer; never rejects. No answer in time is
   * "timeout" (a no); a dialog that could not be shown after all is "unsupported".
   */
  ask(question: ApprovalQuestion): Promise<DriverAnswer>;
}

/**
 * Where remembered approvals are written down for the user (`secret approvals`) and revoked
 * by them (`--clear`, `secret policy`). It can only take an approval away: an approval is
 * honoured only while the serving process also holds it in memory, so a forged entry
 * approves nothing.
 */
export interface ApprovalLedger {
  /** Writes an entry down; returns its id, or null when it could not be written (then nothing is remembered). */
  add(entry: { name: string; client: string; approver: ApproverId; createdAt: number; expiresAt: number }): string | null;
  /** False once the user revoked it (or it was never written). */
  has(id: string): boolean;
  /** Revokes the remembered approvals of `name` (every one when absent) in every broker process; returns how many. */
  clear(name?: string): number;
}

export interface ApprovalDeps {
  clock: Clock;
  /** The OS dialog of this machine (zenity, kdialog, osascript, powershell), or null when the platform has none. */
  os: ApprovalDriver | null;
  /** Where remembered approvals are written down and revoked; absent: nothing is remembered or revoked. */
  ledger?: ApprovalLedger;
  /** True only in a serving process: a CLI process ends at once, so it revokes but never remembers. */
  remember?: boolean;
}

/** What happened when the user was (or was not) asked; the fields go onto the audit line. */
export interface ApprovalOutcome {
  answer: ConsentAnswer;
  /** The driver that answered, or "remembered" for an approval given earlier. */
  approver?: ApproverId | "remembered";
  /** Seconds the approval stays remembered from now (fresh or reused). */
  rememberFor?: number;
  /** Why each driver that was considered could not ask (for the refusal's message). */
  unavailable: string[];
}

export interface ApprovalRequest {
  name: string;
  /** The MCP client's name from `initialize`, or "cli". Remembered approvals are keyed by it. */
  client?: string;
  settings: ApprovalSettings;
  /** The drivers' text (consentLines). */
  lines: string[];
  /** The caller's own driver: MCP elicitation in `serve`, the terminal in `secret get`. */
  clientDriver?: ApprovalDriver;
}

/** Default settings of a `confirm` secret that has none recorded. */
export const DEFAULT_APPROVAL: ApprovalSettings = { via: "any" };

/**
 * The drivers to try, in order, for `via`: os → the OS dialog; client → the caller's own;
 * any → the OS dialog, then the caller's own (so the question is drawn outside the agent's
 * client whenever a display allows it).
 */
export function driversFor(via: ApprovalVia, os: ApprovalDriver | null, client: ApprovalDriver | undefined): (ApprovalDriver | null | undefined)[] {
  if (via === "os") return [os];
  if (via === "client") return [client];
  return [os, client];
}

/**
 * Asks for approvals and remembers them. One instance per broker process; the memory of
 * remembered approvals is this object's, so nothing outlives the process (nor a reboot).
 */
export class Approvals {
  readonly #remembered = new Map<string, { id: string; expiresAt: number }>();

  constructor(private readonly deps: ApprovalDeps) {}

  /** Whether approvals can be remembered here (a serving process with a ledger). */
  get remembers(): boolean {
    return this.deps.remember === true && this.deps.ledger !== undefined;
  }

  /**
   * Returns the user's answer for one use of a `confirm` secret: a remembered approval of the
   * same secret for the same client name when one is still valid (not expired by the clock,
   * not revoked in the ledger), else the first driver of `settings.via` that can ask. A
   * driver that could not show its dialog passes the turn to the next one. An accepted
   * question with `rememberSeconds` is remembered (when the ledger can write it down).
   */
  async approve(req: ApprovalRequest): Promise<ApprovalOutcome> {
    const now = this.deps.clock.now();
    const key = req.client === undefined ? null : rememberKey(req.name, req.client);
    const remembers = req.settings.rememberSeconds !== undefined && key !== null && this.remembers;
    if (remembers) {
      const held = this.#remembered.get(key);
      if (held && held.expiresAt > now && this.deps.ledger!.has(held.id)) {
        return { answer: "accept", approver: "remembered", rememberFor: Math.ceil((held.expiresAt - now) / 1000), unavailable: [] };
      }
      this.#remembered.delete(key);
    }
    const unavailable: string[] = [];
    let outcome: ApprovalOutcome | null = null;
    for (const driver of driversFor(req.settings.via, this.deps.os, req.clientDriver)) {
      if (!driver) continue;
      const why = driver.unavailable();
      if (why !== null) {
        unavailable.push(why);
        continue;
      }
      const { answer, why: failed } = await driver.ask({ name: req.name, lines: req.lines });
      if (answer === "unsupported") {
        unavailable.push(failed ?? `${driver.id} could not ask`);
        continue;
      }
      outcome = { answer, approver: driver.id, unavailable };
      break;
    }
    if (!outcome) return { answer: "unsupported", unavailable };
    if (outcome.answer === "accept" && remembers) {
      const seconds = Math.min(req.settings.rememberSeconds!, MAX_REMEMBER_SECONDS);
      const after = this.deps.clock.now();
      const expiresAt = after + seconds * 1000;
      const id = this.deps.ledger!.add({ name: req.name, client: req.client!, approver: outcome.approver as ApproverId, createdAt: after, expiresAt });
      if (id !== null) {
        this.#remembered.set(key!, { id, expiresAt });
        outcome.rememberFor = seconds;
      }
    }
    return outcome;
  }

  /** Forgets every remembered approval of `name` here and, through the ledger, in every broker process. */
  forget(name: string): void {
    for (const k of this.#remembered.keys()) if (k.startsWith(`${name}\u0000`)) this.#remembered.delete(k);
    this.deps.ledger?.clear(name);
  }
}

function rememberKey(name: string, client: string): string {
  return `${name}\u0000${client}`;
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/**
 * Parses a `--remember` duration: `90s`, `10m`, `2h` (or plain seconds), from 1 s up to
 * MAX_REMEMBER_SECONDS. Throws INVALID_INPUT saying what is accepted.
 */
export function parseRememberDuration(raw: string): number {
  const m = /^(\d{1,6})([smh]?)$/.exec(raw.trim());
  const seconds = m ? Number(m[1]) * DURATION_UNITS[m[2] || "s"]! : Number.NaN;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_REMEMBER_SECONDS) {
    throw new BrokerError("INVALID_INPUT", `--remember '${raw.slice(0, 40)}' is not a duration from 1s to ${MAX_REMEMBER_SECONDS / 3600}h. Use e.g. 90s, 10m or 2h.`);
  }
  return seconds;
}

/** A duration for people: `45s`, `10m`, `2h`, `1h30m`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return seconds % 60 === 0 ? `${seconds / 60}m` : `${Math.floor(seconds / 60)}m${seconds % 60}s`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return m === 0 ? `${h}h` : `${h}h${m}m`;
}
