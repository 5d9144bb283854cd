// `secret get <name>`: prints a secret's value, for humans and `$(…)` in shells.
import { defineCommand } from "citty";
import { storeArg, withRuntime } from "./common.ts";
import { confirmOnTerminal } from "./prompt.ts";
import { examples } from "./run-cli.ts";

examples.set("secret get", ['export GITHUB_TOKEN="$(mcp-credentials-broker secret get github-token)"']);

export const secretGetCommand = defineCommand({
  meta: { name: "get", description: "Print a secret's value to stdout (a newline is added only on a terminal). A 'confirm' secret asks y/N on the terminal first; a 'deny' secret is refused (use `run`)." },
  args: { name: { type: "positional", required: true, description: "Secret name" }, ...storeArg },
  async run({ args }) {
    const value = await withRuntime(args.store, (rt) => rt.broker.readSecret(args.name, { client: "cli", confirm: confirmOnTerminal }));
    process.stdout.write(process.stdout.isTTY ? `${value}\n` : value);
  },
});
