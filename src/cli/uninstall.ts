// `uninstall <client>`: removes only our server entry from an MCP client's config.
import { defineCommand } from "citty";
import { uninstallClient } from "../mcp-clients/install.ts";
import { installDeps } from "../runtime.ts";
import { clientArgs, parseClientChoice } from "./client-args.ts";
import { printOutcome } from "./install.ts";
import { examples } from "./dispatch.ts";

examples.set("uninstall", ["mcp-credentials-broker uninstall cursor", "mcp-credentials-broker uninstall vscode --scope project --dry-run"]);

export const uninstallCommand = defineCommand({
  meta: { name: "uninstall", description: "Remove the broker's entry (and nothing else) from an MCP client's config." },
  args: clientArgs,
  run({ args }) {
    const choice = parseClientChoice(args);
    printOutcome(uninstallClient(choice, installDeps()), choice.name, choice.dryRun);
  },
});
