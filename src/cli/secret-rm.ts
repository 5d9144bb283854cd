// `secret rm <name>`: deletes a stored secret.
import { command } from "./command.ts";
import { storeArg } from "./common.ts";
import { terminalText } from "./terminal-text.ts";

export const secretRmCommand = command({
  examples: ["mcp-credentials-broker secret rm old-token"],
  meta: { name: "rm", description: "Delete a stored secret." },
  args: { name: { type: "positional", required: true, description: "Secret name" }, ...storeArg },
  async run({ args, withRuntime, note }) {
    await withRuntime(args.store, (rt) => rt.broker.deleteSecret(args.name, { client: "cli", user: true }));
    note(`Deleted secret '${terminalText(args.name)}'.`);
  },
});
