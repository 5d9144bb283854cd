// The MCP side of the consent port: asks the user through a form elicitation in their client.
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { ConsentAnswer } from "../core/audit.ts";
import type { ConsentPort } from "../core/policy.ts";
import type { Logger } from "../log.ts";

/** A person reads and answers the question: allow them minutes, not the SDK's 60 s default. */
export const CONSENT_TIMEOUT_MS = 5 * 60_000;

/**
 * Asks with an `elicitation/create` request in form mode (MCP 2025-06-18 "Elicitation"):
 * the message is the question, the form is empty, and the user's action (accept, decline,
 * cancel) is the answer. A client that did not declare form elicitation in `initialize`
 * gets no request: the answer is "unsupported". A failed or timed-out request is "cancel".
 */
export function elicitConsent(server: Server, log: Logger): ConsentPort {
  return async (message): Promise<ConsentAnswer> => {
    const elicitation = server.getClientCapabilities()?.elicitation;
    // An empty `elicitation: {}` is the older spelling of form support.
    if (!elicitation || !(elicitation.form || Object.keys(elicitation).length === 0)) return "unsupported";
    try {
      const r = await server.elicitInput({ mode: "form", message, requestedSchema: { type: "object", properties: {} } }, { timeout: CONSENT_TIMEOUT_MS });
      return r.action;
    } catch (e) {
      log.debug(`elicitation failed: ${e instanceof Error ? e.name : typeof e}`);
      return "cancel";
    }
  };
}
