// list_secrets: the names and metadata of stored secrets, never their values.
import { z } from "zod";
import { defineTool } from "../tool.ts";
import { secretEntry, success } from "../schemas.ts";

export const listSecrets = defineTool({
  name: "list_secrets",
  title: "List secrets",
  description:
    "List stored secrets: name, policy, hosts it is meant for, tags and timestamps (epoch ms). Never returns values. Use it to find the name to pass to get_secret. policy 'allow': get_secret + resolve_secret work; 'confirm': the user is asked to approve each resolve_secret (`approval` says how: a system dialog, their client, or either; an approval may be remembered for a while); 'deny': the value is never given to you (a tool server wrapped by `mcp-credentials-broker run` uses it).",
  input: {},
  output: { success, secrets: z.array(secretEntry) },
  async run(_input, ctx) {
    return { success: true as const, secrets: await ctx.broker.listSecrets() };
  },
});
