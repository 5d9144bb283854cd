// `secret policy <name> <policy>`: sets who may read a secret's value (allow, confirm, deny) and,
// for confirm, how the user is asked (--via) and how long an approval is remembered (--remember).
import { parseRememberDuration } from "../core/approval.ts";
import { BrokerError } from "../errors.ts";
import { APPROVAL_VIAS, POLICIES, type ApprovalSettings } from "../core/store.ts";
import { command } from "./command.ts";
import { storeArg } from "./common.ts";
import { terminalText } from "./terminal-text.ts";
import { parseApprovalVia, parsePolicy } from "../core/schemas.ts";

export const secretPolicyCommand = command({
  examples: [
    "mcp-credentials-broker secret policy github-token confirm   # the user approves each resolve_secret (OS dialog, else the client)",
    "mcp-credentials-broker secret policy github-token confirm --via os   # only a system dialog, never the agent's client",
    "mcp-credentials-broker secret policy github-token confirm --remember 10m   # one approval per client lasts 10 minutes",
    "mcp-credentials-broker secret policy github-token deny      # only `run` can use it",
    "mcp-credentials-broker secret policy github-token allow",
  ],
  meta: {
    name: "policy",
    description:
      "Set a secret's resolve policy: allow (any agent, via a reference), confirm (the user approves each resolve: in an OS dialog when a display is available, else in their MCP client), deny (never returned to an agent; only `run` injects it). Changing it revokes approvals remembered for the secret.",
  },
  args: {
    name: { type: "positional", required: true, description: "Secret name" },
    policy: { type: "positional", required: true, description: POLICIES.join(" | ") },
    via: { type: "string", description: "confirm: who asks — os (a system dialog: osascript, zenity/kdialog, PowerShell), client (the MCP client's elicitation; the terminal for `secret get`), any (default: os when a display is available, else client)", valueHint: APPROVAL_VIAS.join("|") },
    remember: { type: "string", description: "confirm: remember an approval this long for the same MCP client, in the broker process that asked (e.g. 90s, 10m, 2h; at most 8h; never across restarts)", valueHint: "10m" },
    ...storeArg,
  },
  async run({ args, withRuntime, note }) {
    const policy = parsePolicy(args.policy);
    let approval: ApprovalSettings | undefined;
    if (args.via !== undefined || args.remember !== undefined) {
      if (policy !== "confirm") throw new BrokerError("INVALID_INPUT", `--via and --remember apply to policy 'confirm' only, not '${policy}'.`);
      approval = { via: args.via === undefined ? "any" : parseApprovalVia(args.via), ...(args.remember !== undefined ? { rememberSeconds: parseRememberDuration(args.remember) } : {}) };
    }
    await withRuntime(args.store, (rt) => rt.broker.setPolicy(args.name, policy, { client: "cli" }, approval));
    const how = policy === "confirm" ? ` (asked via ${approval?.via ?? "any"}${approval?.rememberSeconds ? `, an approval remembered for ${args.remember}` : ""})` : "";
    note(`Secret '${terminalText(args.name)}' now has policy '${policy}'${terminalText(how)}. Approvals remembered for it were revoked.`);
  },
});
