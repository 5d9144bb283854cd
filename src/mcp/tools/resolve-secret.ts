// resolve_secret: exchanges a reference for the secret's value, once.
import { z } from "zod";
import { defineTool } from "../tool.ts";
import { success } from "../schemas.ts";

export const resolveSecret = defineTool({
  name: "resolve_secret",
  title: "Resolve a secret reference",
  description:
    "Exchange a reference id from get_secret for the secret's value. Each reference resolves exactly once and only before it expires; a used, expired or unknown reference is an error (call get_secret again). Use the value immediately and never repeat it in your reply. A secret with policy 'confirm' is returned only if the user approves the request (in a system dialog, or in their client; the call waits for their answer); policy 'deny' is always refused.",
  input: {
    reference_id: z.string().min(1).max(256).describe("The reference.id returned by get_secret"),
  },
  output: { success, value: z.string() },
  async run(input, ctx) {
    return { success: true as const, value: await ctx.broker.resolveReference(input.reference_id, ctx) };
  },
});
