// `uninstall <client>`: removes only our server entry from an MCP client's config.
import { uninstallClient } from "../mcp-clients/install.ts";
import { clientArgs, parseClientChoice } from "./client-args.ts";
import { command } from "./command.ts";
import { auditedClientChange, printOutcome } from "./install.ts";

export const uninstallCommand = command({
  examples: ["mcp-credentials-broker uninstall cursor", "mcp-credentials-broker uninstall vscode --scope project --dry-run"],
  meta: { name: "uninstall", description: "Remove the broker's entry (and nothing else) from an MCP client's config." },
  args: clientArgs,
  async run(ctx) {
    const choice = parseClientChoice(ctx.args);
    const deps = await ctx.installDeps();
    printOutcome(ctx.out, await auditedClientChange(ctx, "uninstall", choice, (dryRun) => uninstallClient({ ...choice, dryRun }, deps)), choice.name, choice.dryRun);
  },
});
