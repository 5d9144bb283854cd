// get_secret: a single-use, short-lived reference to a stored secret (never the value).
import { z } from "zod";
import { defineTool } from "../tool.ts";
import { message, purpose, referenceTtlSeconds, secretName, success } from "../schemas.ts";

export const getSecret = defineTool({
  name: "get_secret",
  title: "Get a secret reference",
  description:
    "Issue a short-lived, single-use reference to a stored secret. Returns a reference id, not the value. Prefer passing the reference to whatever needs it; call resolve_secret only when the raw value is unavoidable. Fails if no secret has that name (see list_secrets) or its policy is 'deny'.",
  input: {
    name: secretName.describe("Name of the stored secret"),
    purpose: purpose.describe("Why the secret is needed (recorded in the audit log), e.g. 'call the GitHub API to list issues'"),
    ttl_seconds: referenceTtlSeconds.default(3600).describe("How long the reference stays valid, 1 to 86400 seconds (default 3600)"),
  },
  output: {
    success,
    reference: z.object({ id: z.string(), name: z.string(), purpose: z.string(), expiresAt: z.number(), expiresIn: z.number() }),
    message,
  },
  async run(input, ctx) {
    const reference = await ctx.broker.issueReference(input.name, input.purpose, input.ttl_seconds, ctx);
    return {
      success: true as const,
      reference,
      message: "Secret reference issued. It resolves once, before it expires: pass reference.id to resolve_secret only when the raw value is required.",
    };
  },
});
