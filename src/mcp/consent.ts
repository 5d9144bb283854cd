// The MCP client's approval driver: asks the user through a form elicitation in their client.
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { ApprovalDriver } from "../core/approval.ts";
import type { Logger } from "../log.ts";

/** A person reads and answers the question: allow them minutes, not the SDK's 60 s default. */
export const CONSENT_TIMEOUT_MS = 5 * 60_000;

/**
 * Asks with an `elicitation/create` request in form mode (MCP 2025-06-18 "Elicitation"):
 * the message is the question, the form is empty, and the user's action (accept, decline,
 * cancel) is the answer. A client that did not declare form elicitation in `initialize`
 * cannot ask (`unavailable`). No answer within `timeoutMs` is "timeout"; a failed request is
 * "cancel".
 */
export function elicitationApprover(server: Server, log: Logger, timeoutMs = CONSENT_TIMEOUT_MS): ApprovalDriver {
  return {
    id: "client",
    kind: "client",
    unavailable() {
      const elicitation = server.getClientCapabilities()?.elicitation;
      // An empty `elicitation: {}` is the older spelling of form support.
      if (elicitation && (elicitation.form || Object.keys(elicitation).length === 0)) return null;
      return "this MCP client does not support MCP form elicitation";
    },
    async ask(question) {
      try {
        const r = await server.elicitInput({ mode: "form", message: question.lines.join(" "), requestedSchema: { type: "object", properties: {} } }, { timeout: timeoutMs });
        return { answer: r.action };
      } catch (e) {
        if (e instanceof McpError && e.code === ErrorCode.RequestTimeout) return { answer: "timeout" };
        log.debug(`elicitation failed: ${e instanceof Error ? e.name : typeof e}`);
        return { answer: "cancel" };
      }
    },
  };
}
