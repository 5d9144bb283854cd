// Resolve policy (allow / confirm / deny) and host bindings: the rules, the question asked for a
// `confirm` secret, the refusals, and what an agent may not change about a secret the user protected.
import { BrokerError } from "../errors.ts";
import type { ApprovalVia, Policy, SecretRecord } from "./store.ts";
import { DEFAULT_APPROVAL, formatDuration, MAX_REMEMBER_SECONDS, type ApprovalDriver, type Approvals } from "./approval.ts";
import type { AuditEntry } from "./audit.ts";
import { quoteOutsideText } from "./outside-text.ts";

/** How much of a client's self-chosen name the consent question shows. */
const CLIENT_NAME_MAX_CHARS = 64;

/**
 * The question shown to the user for a `confirm` secret — the one dialog meant to stop an
 * agent, so nothing the agent chose may pass for the broker's words (README.md "Security
 * model": an agent's words cannot drive your terminal). The client's name (its own, from
 * `initialize`), the secret's name and the agent's `purpose` are each quoted, cut to a
 * length and control-free (quoteOutsideText), and the purpose is introduced as what the
 * agent says. Without a purpose the user asked at the terminal (`secret get`): there are no
 * agent's words to show. With `rememberSeconds` the question says the approval lasts that
 * long for this client. One sentence per line: an OS dialog shows them apart, the MCP
 * elicitation joined by spaces (consentMessage).
 */
export function consentLines(req: { client?: string; name: string; purpose?: string; rememberSeconds?: number }): string[] {
  const name = quoteOutsideText(req.name, undefined, "'");
  if (req.purpose === undefined) return [`The secret ${name} has policy 'confirm'.`, "Print its value?"];
  const who = req.client ? `The MCP client ${quoteOutsideText(req.client, CLIENT_NAME_MAX_CHARS)}` : "An MCP client";
  const ask = req.rememberSeconds === undefined ? "Allow this once?" : `Allow it now and for the next ${formatDuration(req.rememberSeconds)} (this secret, this client)?`;
  return [`${who} wants the value of the secret ${name}.`, `The agent says it needs it for: ${quoteOutsideText(req.purpose)}.`, ask];
}

/** The consent question on one line (the MCP form elicitation's message). */
export function consentMessage(req: { client?: string; name: string; purpose?: string; rememberSeconds?: number }): string {
  return consentLines(req).join(" ");
}

/**
 * Enforces a secret's policy before its value is returned to an agent (resolve_secret) or
 * printed (`secret get`). `deny` always refuses; `confirm` asks through `approvals` (an OS
 * dialog, the caller's own driver `confirm`, or an approval remembered earlier, as the
 * secret's approval settings say) and records the answer, the driver and how long the
 * approval is remembered on the audit entry. `run` does not come here: injection never shows
 * the value. `purpose` is the agent's; absent when the user asked at the terminal.
 */
export async function enforcePolicy(
  record: Pick<SecretRecord, "policy" | "approval">,
  req: { name: string; purpose?: string; client?: string; confirm?: ApprovalDriver; approvals: Approvals },
  entry: Pick<AuditEntry, "consent" | "approver" | "rememberFor">,
): Promise<void> {
  if (record.policy === "deny") throw policyDenied(req.name);
  if (record.policy !== "confirm") return;
  const settings = record.approval ?? DEFAULT_APPROVAL;
  const rememberSeconds = req.approvals.remembers && settings.rememberSeconds !== undefined ? Math.min(settings.rememberSeconds, MAX_REMEMBER_SECONDS) : undefined;
  const lines = consentLines({ client: req.client, name: req.name, purpose: req.purpose, rememberSeconds });
  const outcome = await req.approvals.approve({ name: req.name, client: req.client, settings, lines, clientDriver: req.confirm });
  entry.consent = outcome.answer;
  if (outcome.approver) entry.approver = outcome.approver;
  if (outcome.rememberFor !== undefined) entry.rememberFor = outcome.rememberFor;
  if (outcome.answer === "accept") return;
  if (outcome.answer === "unsupported") throw nobodyToAsk(req.name, settings.via, outcome.unavailable, req.confirm?.id === "terminal");
  if (outcome.answer === "timeout") {
    throw new BrokerError("CONSENT_DECLINED", `Nobody answered the request for the secret '${req.name}' in time (${outcome.approver}), which counts as no. Do not retry unless the user asks you to.`);
  }
  const how = outcome.approver === "client" || outcome.approver === "terminal" ? "" : ` in the ${outcome.approver} dialog`;
  throw new BrokerError("CONSENT_DECLINED", `The user ${outcome.answer === "decline" ? "declined" : "cancelled"} the request for the secret '${req.name}'${how}. Do not retry unless the user asks you to.`);
}

/**
 * CONSENT_UNAVAILABLE for a `confirm` secret nobody can approve here: why each way is
 * closed, and how to open one — an OS dialog (a desktop session), the client's question
 * (a client with form elicitation, or `--via any`), or `run`, which needs no approval.
 */
function nobodyToAsk(name: string, via: ApprovalVia, why: string[], atTerminal: boolean): BrokerError {
  const reasons = why.length ? why.join("; ") : "no way to ask is configured";
  const policy = `mcp-credentials-broker secret policy ${name} confirm --via any`;
  let fix: string;
  if (atTerminal) {
    fix = via === "os" ? `Run the command in a desktop session where a dialog can be shown, or let the terminal ask: \`${policy}\`; or use \`mcp-credentials-broker run\` to hand the secret to a program.` : "Run the command in a terminal, or use `mcp-credentials-broker run` to hand the secret to a program.";
  } else if (via === "os") {
    fix = `Ask the user to run the broker in a desktop session where it can show a dialog, or to let the MCP client ask instead: \`${policy}\`.`;
  } else if (via === "client") {
    fix = `Ask the user to use an MCP client that supports form elicitation, or to allow an OS dialog: \`${policy}\`; or to give the tool server the secret with \`mcp-credentials-broker run\`.`;
  } else {
    fix = "Ask the user to run the broker in a desktop session (it then shows its own dialog), or to use an MCP client that supports form elicitation; or to give the tool server the secret with `mcp-credentials-broker run`.";
  }
  return new BrokerError("CONSENT_UNAVAILABLE", `The secret '${name}' has policy 'confirm': the user must approve each use, but nobody can be asked here (${reasons}). ${fix}`);
}

/** The refusal for a `deny` secret: only `run` can use it. */
export function policyDenied(name: string): BrokerError {
  return new BrokerError(
    "POLICY_DENIED",
    `The secret '${name}' has policy 'deny': its value is never given to an agent. The tool server that needs it gets it from \`mcp-credentials-broker run --env VAR=secret:${name} -- <server>\`; ask the user to set that up.`,
  );
}

/**
 * An agent (any MCP caller) may not replace or delete a secret the user protected with
 * `deny` or `confirm`: replacing a `deny` secret would make `run` inject the agent's value,
 * and deleting then re-storing it would drop the policy (docs/security.md §Policies). The user
 * does both from the CLI (`user` set by the commands, never by an MCP client, whose name is
 * its own choice). Throws POLICY_DENIED saying so.
 */
export function checkAgentChange(policy: Policy | undefined, req: { name: string; action: "replace" | "delete"; user?: boolean }): void {
  if (req.user === true || (policy !== "deny" && policy !== "confirm")) return;
  const verb = req.action === "replace" ? "replace" : "delete";
  const command = req.action === "replace" ? `mcp-credentials-broker secret set ${req.name}` : `mcp-credentials-broker secret rm ${req.name}`;
  throw new BrokerError(
    "POLICY_DENIED",
    `The secret '${req.name}' has policy '${policy}': an agent cannot ${verb} it. The user can, from a terminal: \`${command}\` (or \`mcp-credentials-broker secret policy ${req.name} allow\` first). Use another name for a new secret.`,
  );
}
