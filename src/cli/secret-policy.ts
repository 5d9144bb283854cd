// `secret policy <name> <policy>`: sets who may read a secret's value (allow, confirm, deny).
import { defineCommand } from "citty";
import { POLICIES } from "../store/store.ts";
import { storeArg, withRuntime } from "./common.ts";
import { examples } from "./run-cli.ts";
import { terminalText } from "./terminal-text.ts";
import { parsePolicy } from "./secret-set.ts";

examples.set("secret policy", [
  "mcp-credentials-broker secret policy github-token confirm   # the user approves each resolve_secret",
  "mcp-credentials-broker secret policy github-token deny      # only `run` can use it",
  "mcp-credentials-broker secret policy github-token allow",
]);

export const secretPolicyCommand = defineCommand({
  meta: {
    name: "policy",
    description: "Set a secret's resolve policy: allow (any agent, via a reference), confirm (the user approves each resolve through their MCP client), deny (never returned to an agent; only `run` injects it).",
  },
  args: {
    name: { type: "positional", required: true, description: "Secret name" },
    policy: { type: "positional", required: true, description: POLICIES.join(" | ") },
    ...storeArg,
  },
  async run({ args }) {
    const policy = parsePolicy(args.policy);
    await withRuntime(args.store, (rt) => rt.broker.setPolicy(args.name, policy, { client: "cli" }));
    process.stderr.write(`Secret '${terminalText(args.name)}' now has policy '${policy}'.\n`);
  },
});
