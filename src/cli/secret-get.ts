// `secret get <name>`: prints a secret's value, for humans and `$(…)` in shells.
import { defineCommand } from "citty";
import { terminalApprover } from "../approval/terminal.ts";
import { approvalTimeoutMs } from "../deps.ts";
import { storeArg, withRuntime } from "./common.ts";
import { examples } from "./dispatch.ts";

examples.set("secret get", ['export GITHUB_TOKEN="$(mcp-credentials-broker secret get github-token)"']);

export const secretGetCommand = defineCommand({
  meta: {
    name: "get",
    description:
      "Print a secret's value to stdout (a newline is added only on a terminal). A 'confirm' secret is approved first — in an OS dialog when a display is available (--via os|any), else y/N on the terminal; a 'deny' secret is refused (use `run`).",
  },
  args: { name: { type: "positional", required: true, description: "Secret name" }, ...storeArg },
  async run({ args }) {
    const value = await withRuntime(args.store, (rt) => rt.broker.readSecret(args.name, { client: "cli", confirm: terminalApprover(approvalTimeoutMs(rt.env, rt.log)) }));
    process.stdout.write(process.stdout.isTTY ? `${value}\n` : value);
  },
});
