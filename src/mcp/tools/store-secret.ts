// store_secret: saves a secret under a name (replacing any previous value).
import { defineTool } from "../tool.ts";
import { message, secretName, secretValue, success, tags } from "../schemas.ts";

export const storeSecret = defineTool({
  name: "store_secret",
  title: "Store a secret",
  description:
    "Store a secret under a name, replacing any existing value with that name. Then use get_secret to obtain a reference to it. Prefer having the user run `mcp-credentials-broker secret set <name>` so the value never passes through the conversation.",
  input: {
    name: secretName.describe("Name to store the secret under, e.g. 'github-token'"),
    value: secretValue.describe("The secret value (at most 64 KiB)"),
    tags: tags.optional().describe("Optional string labels, e.g. {\"env\": \"prod\"}"),
  },
  output: { success, message },
  async run(input, ctx) {
    await ctx.broker.storeSecret(input.name, input.value, { tags: input.tags }, ctx);
    return { success: true as const, message: `Secret '${input.name}' stored successfully` };
  },
});
