// `secret rm <name>`: deletes a stored secret.
import { defineCommand } from "citty";
import { storeArg, withRuntime } from "./common.ts";
import { examples } from "./dispatch.ts";
import { terminalText } from "./terminal-text.ts";

examples.set("secret rm", ["mcp-credentials-broker secret rm old-token"]);

export const secretRmCommand = defineCommand({
  meta: { name: "rm", description: "Delete a stored secret." },
  args: { name: { type: "positional", required: true, description: "Secret name" }, ...storeArg },
  async run({ args }) {
    await withRuntime(args.store, (rt) => rt.broker.deleteSecret(args.name, { client: "cli", user: true }));
    process.stderr.write(`Deleted secret '${terminalText(args.name)}'.\n`);
  },
});
