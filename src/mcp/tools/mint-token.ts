// mint_token: a short-lived JWT scoped to a provider, scopes and optional resource.
import { z } from "zod";
import { defineTool } from "../tool.ts";
import { message, mintProvider, resource, scopes, success } from "../schemas.ts";

export const mintToken = defineTool({
  name: "mint_token",
  title: "Mint a short-lived token",
  description:
    "Mint a short-lived signed JWT for a provider with the given scopes (and optional resource, which becomes the audience). Default lifetime 1 h; maximum 8 h for github, 12 h for aws/gcp/azure/okta/custom, 24 h for oauth2. Revoke it with revoke_token when done.",
  input: {
    provider: mintProvider.describe("Provider the token is for"),
    scopes: scopes.describe("Scopes/permissions for the token, e.g. ['repo:read']"),
    resource: resource.optional().describe("Resource the token is for (becomes the `aud` claim)"),
    ttl_seconds: z.number().int().min(1).optional().describe("Lifetime in seconds (default 3600, at most the provider's maximum)"),
  },
  output: {
    success,
    token: z.object({
      tokenId: z.string(),
      token: z.string(),
      provider: z.string(),
      scopes: z.array(z.string()),
      resource: z.string().optional(),
      expiresAt: z.number(),
      expiresIn: z.number(),
    }),
    message,
  },
  async run(input, ctx) {
    const token = await ctx.broker.mintToken({ provider: input.provider, scopes: input.scopes, resource: input.resource, ttlSeconds: input.ttl_seconds }, ctx);
    return { success: true as const, token, message: "Token minted successfully. This token will expire automatically; revoke it with revoke_token when done." };
  },
});
