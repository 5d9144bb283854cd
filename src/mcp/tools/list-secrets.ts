// list_secrets: the names and metadata of stored secrets, never their values.
import { z } from "zod";
import { defineTool } from "../tool.ts";
import { secretEntry, success } from "../schemas.ts";

export const listSecrets = defineTool({
  name: "list_secrets",
  title: "List secrets",
  description: "List the names, tags and timestamps (epoch ms) of stored secrets. Never returns values. Use it to find the name to pass to get_secret.",
  input: {},
  output: { success, secrets: z.array(secretEntry) },
  async run(_input, ctx) {
    return { success: true as const, secrets: await ctx.broker.listSecrets() };
  },
});
