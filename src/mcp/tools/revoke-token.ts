// revoke_token: makes a minted token fail verification from now on, in every broker process.
import { z } from "zod";
import { defineTool } from "../tool.ts";
import { message, success } from "../schemas.ts";

export const revokeToken = defineTool({
  name: "revoke_token",
  title: "Revoke a token",
  description: "Revoke a token minted by mint_token, by its tokenId. From then on verify_token rejects it, in this and every other broker process, until it would have expired.",
  input: { token_id: z.string().min(1).max(8192).describe("The tokenId returned by mint_token (or the token itself, exactly as minted: an altered token is refused)") },
  output: { success, message },
  async run(input, ctx) {
    const r = await ctx.broker.revokeToken(input.token_id, ctx);
    if (r.expired) return { success: true as const, message: "Token had already expired: it no longer verifies anywhere, so there was nothing to revoke." };
    return { success: true as const, message: r.known ? "Token revoked successfully" : "Token id recorded as revoked (it was not minted by this process, so it stays revoked for the longest token lifetime)." };
  },
});
