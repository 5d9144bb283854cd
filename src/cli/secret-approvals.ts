// `secret approvals [name] [--clear]`: lists the approvals serving brokers remember, or revokes them.
import { formatDuration } from "../core/approval.ts";
import { bootId, FileApprovalLedger } from "../approval/ledger.ts";
import { privateDataDir } from "../runtime.ts";
import { command } from "./command.ts";
import { jsonArg } from "./common.ts";
import { terminalText } from "./terminal-text.ts";

function ledger(dataDir: string): FileApprovalLedger {
  return new FileApprovalLedger({ dataDir, pid: process.pid, boot: bootId(process.platform), now: () => Date.now() });
}

export const secretApprovalsCommand = command({
  examples: [
    "mcp-credentials-broker secret approvals                # approvals remembered now (secret, client, until)",
    "mcp-credentials-broker secret approvals --clear        # revoke them all: the next use asks again",
    "mcp-credentials-broker secret approvals github-token --clear",
  ],
  meta: {
    name: "approvals",
    description:
      "List the approvals of 'confirm' secrets that running brokers remember (set with `secret policy <name> confirm --remember 10m`), or revoke them with --clear. An approval holds for one secret and one MCP client name, in the broker process that asked, until it expires; none outlives that process or a reboot.",
  },
  args: {
    name: { type: "positional", required: false, description: "Only this secret's approvals" },
    clear: { type: "boolean", description: "Revoke them (every broker asks again on the next use)" },
    ...jsonArg,
  },
  async run({ args, config, out, withRuntime }) {
    if (args.clear) {
      // A change to what brokers allow: audited (intent before, outcome after) like the broker's own.
      const n = await withRuntime(undefined, (rt) =>
        rt.broker.auditChange({ event: "approvals-clear", ...(args.name ? { name: args.name } : {}) }, { client: "cli", user: true }, async () => ledger(rt.dataDir).clear(args.name)),
        { quietStoreWarning: true },
      );
      if (args.json) return out(JSON.stringify({ cleared: n }));
      return out(`Revoked ${n} remembered approval${n === 1 ? "" : "s"}${args.name ? ` of '${terminalText(args.name)}'` : ""}.`);
    }
    const now = Date.now();
    const list = ledger(privateDataDir(config)).list().filter((e) => args.name === undefined || e.name === args.name);
    if (args.json) return out(JSON.stringify(list.map(({ id: _id, boot: _boot, ...e }) => e), null, 2));
    if (list.length === 0) return out("No remembered approvals. (`secret policy <name> confirm --remember 10m` makes brokers remember one per client.)");
    // Secret and client names may be an agent's: escaped, so none forges a row.
    for (const e of list) {
      out(`${terminalText(e.name)}\t${terminalText(e.client)}\tapproved via ${terminalText(e.approver)}\t${formatDuration(Math.max(1, Math.ceil((e.expiresAt - now) / 1000)))} left (until ${new Date(e.expiresAt).toISOString().replace(/\.\d+Z$/, "Z")})\tbroker pid ${e.pid}`);
    }
  },
});
