// delete_secret: removes a stored secret; outstanding references to it stop resolving.
import { defineTool } from "../tool.ts";
import { message, secretName, success } from "../schemas.ts";

export const deleteSecret = defineTool({
  name: "delete_secret",
  title: "Delete a secret",
  description: "Delete a stored secret by name. Outstanding references to it stop resolving. Fails if no secret has that name.",
  input: { name: secretName.describe("Name of the secret to delete") },
  output: { success, message },
  async run(input, ctx) {
    await ctx.broker.deleteSecret(input.name, ctx);
    return { success: true as const, message: `Secret '${input.name}' deleted` };
  },
});
