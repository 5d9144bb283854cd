// `secret get <name>`: prints a secret's value, for humans and `$(…)` in shells.
import { terminalApprover } from "../approval/terminal.ts";
import { command } from "./command.ts";
import { storeArg } from "./common.ts";

export const secretGetCommand = command({
  examples: ['export GITHUB_TOKEN="$(mcp-credentials-broker secret get github-token)"'],
  meta: {
    name: "get",
    description:
      "Print a secret's value to stdout (a newline is added only on a terminal). A 'confirm' secret is approved first — in an OS dialog when a display is available (--via os|any), else y/N on the terminal; a 'deny' secret is refused (use `run`).",
  },
  args: { name: { type: "positional", required: true, description: "Secret name" }, ...storeArg },
  async run({ args, io, withRuntime }) {
    const value = await withRuntime(args.store, (rt) =>
      rt.broker.readSecret(args.name, { client: "cli", confirm: terminalApprover(rt.config.approvalTimeoutMs, { stdin: io.stdin, stderr: io.stderr }) }),
    );
    // The value goes out as it is: escaping it would change it.
    io.stdout.write(io.stdoutIsTTY ? `${value}\n` : value);
  },
});
