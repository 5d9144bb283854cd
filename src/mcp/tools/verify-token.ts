// verify_token: checks a minted token's signature, issuer, expiry and revocation.
import { z } from "zod";
import { defineTool } from "../tool.ts";
import { success } from "../schemas.ts";

export const verifyToken = defineTool({
  name: "verify_token",
  title: "Verify a token",
  description: "Check a token minted by this broker: signature, issuer, expiry and revocation. Returns valid true with its claims, or valid false with the reason.",
  input: { token: z.string().min(1).max(16384).describe("The JWT to check") },
  output: { success, valid: z.boolean(), claims: z.record(z.string(), z.unknown()).optional(), reason: z.string().optional() },
  async run(input, ctx) {
    const r = await ctx.broker.verifyToken(input.token);
    return r.valid ? { success: true as const, valid: true, claims: r.claims } : { success: true as const, valid: false, reason: r.reason, ...(r.claims ? { claims: r.claims } : {}) };
  },
});
