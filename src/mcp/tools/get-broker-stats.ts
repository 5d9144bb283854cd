// get_broker_stats: counts of live tokens, live references and stored secrets.
import { z } from "zod";
import { defineTool } from "../tool.ts";
import { success } from "../schemas.ts";

export const getBrokerStats = defineTool({
  name: "get_broker_stats",
  title: "Broker statistics",
  description: "Counts of tokens minted by this broker process that are still valid, references not yet used or expired, and stored secrets.",
  input: {},
  output: { success, stats: z.object({ activeTokens: z.number(), activeReferences: z.number(), storedSecrets: z.number() }) },
  async run(_input, ctx) {
    return { success: true as const, stats: await ctx.broker.stats() };
  },
});
