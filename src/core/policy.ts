// Resolve policy (allow / confirm / deny) and host bindings: the rules, asking the user for
// consent, and what an agent may not change about a secret the user protected.
import { BrokerError } from "../errors.ts";
import type { Policy } from "../store/store.ts";
import type { AuditEntry, ConsentAnswer } from "./audit.ts";
import { quoteOutsideText } from "./outside-text.ts";

/**
 * Asks the user whether to hand a secret's value out, and resolves with their answer.
 * The MCP server implements it with a form elicitation, the CLI with a y/N prompt on a
 * terminal; "unsupported" when there is nobody to ask. Never rejects.
 */
export type ConsentPort = (message: string) => Promise<ConsentAnswer>;

export const MAX_HOSTS = 32;

/** How much of a client's self-chosen name the consent question shows. */
const CLIENT_NAME_MAX_CHARS = 64;

/**
 * The question shown to the user for a `confirm` secret — the one dialog meant to stop an
 * agent, so nothing the agent chose may pass for the broker's words (README.md "Security
 * model": an agent's words cannot drive your terminal). The client's name (its own, from
 * `initialize`), the secret's name and the agent's `purpose` are each quoted, cut to a
 * length and control-free (quoteOutsideText), and the purpose is introduced as what the
 * agent says. Without a purpose the user asked at the terminal (`secret get`): there are no
 * agent's words to show.
 */
export function consentMessage(req: { client?: string; name: string; purpose?: string }): string {
  const name = quoteOutsideText(req.name, undefined, "'");
  if (req.purpose === undefined) return `The secret ${name} has policy 'confirm'. Print its value?`;
  const who = req.client ? `The MCP client ${quoteOutsideText(req.client, CLIENT_NAME_MAX_CHARS)}` : "An MCP client";
  return `${who} wants the value of the secret ${name}. The agent says it needs it for: ${quoteOutsideText(req.purpose)}. Allow this once?`;
}

/**
 * Enforces `policy` before a value is returned to an agent (resolve_secret) or printed
 * (`secret get`). `deny` always refuses; `confirm` asks through `confirm` and records the
 * answer on the audit entry. `run` does not come here: injection never shows the value.
 * `purpose` is the agent's; absent when the user asked at the terminal.
 */
export async function enforcePolicy(
  policy: Policy | undefined,
  req: { name: string; purpose?: string; client?: string; confirm?: ConsentPort },
  entry: Pick<AuditEntry, "consent">,
): Promise<void> {
  if (policy === "deny") throw policyDenied(req.name);
  if (policy !== "confirm") return;
  const answer = req.confirm ? await req.confirm(consentMessage(req)) : "unsupported";
  entry.consent = answer;
  if (answer === "accept") return;
  if (answer === "unsupported") {
    const why =
      req.client === "cli"
        ? "there is no terminal to ask on (stdin and stderr must be a TTY). Run the command in a terminal, or use `mcp-credentials-broker run` to hand the secret to a program."
        : "this client cannot ask them (it does not support MCP form elicitation). Ask the user to use a client that does, or to give the tool server the secret with `mcp-credentials-broker run`.";
    throw new BrokerError("CONSENT_UNAVAILABLE", `The secret '${req.name}' has policy 'confirm': the user must approve each use, but ${why}`);
  }
  throw new BrokerError("CONSENT_DECLINED", `The user ${answer === "decline" ? "declined" : "cancelled"} the request for the secret '${req.name}'. Do not retry unless the user asks you to.`);
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
 * and deleting then re-storing it would drop the policy (DESIGN.md "Approval"). The user
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

/**
 * Normalises the hosts a secret is for: lower-case `host`, `host:port` or `*.domain`, at
 * most MAX_HOSTS, duplicates dropped. A URL is accepted and reduced to its host.
 */
export function normalizeHosts(hosts: string[]): string[] {
  const out = new Set<string>();
  for (const raw of hosts) {
    let h = raw.trim().toLowerCase();
    if (h.includes("://")) {
      try {
        h = new URL(h).host;
      } catch {
        /* refused below */
      }
    }
    if (!/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:\d{1,5})?$/.test(h) || h.length > 260) {
      throw new BrokerError("INVALID_INPUT", `'${raw.slice(0, 100)}' is not a host. Give a host name such as api.github.com, api.example.com:8443 or *.example.com.`);
    }
    out.add(h);
  }
  if (out.size > MAX_HOSTS) throw new BrokerError("INVALID_INPUT", `A secret may name at most ${MAX_HOSTS} hosts.`);
  return [...out];
}
