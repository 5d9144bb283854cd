// `install <client>`: writes this binary into an MCP client's config under a stable path.
import { existsSync } from "node:fs";
import { buildInfo } from "../build-info.ts";
import { installClient, type InstallOutcome } from "../mcp-clients/install.ts";
import { resolveCommandPath } from "../mcp-clients/stable-path.ts";
import { type ClientChoice, clientArgs, parseClientChoice } from "./client-args.ts";
import { type CliContext, command } from "./command.ts";
import { terminalText } from "./terminal-text.ts";

const VERBS = { added: ["Added", "add"], replaced: ["Repointed", "repoint"], removed: ["Removed", "remove"] } as const;

/** Human summary of an install or uninstall, shared with `uninstall`. */
export function printOutcome(out: (line: string) => void, o: InstallOutcome, name: string, dryRun: boolean, detail?: string): void {
  const t = terminalText;
  if (o.action === "unchanged") return out(`'${t(name)}' in ${o.client.label} (${t(o.file)}) already runs this binary; nothing to do.`);
  if (o.action === "absent") return out(`${o.client.label} has no server '${t(name)}' in ${t(o.file)}; nothing to do.`);
  const [done, todo] = VERBS[o.action];
  out(`${dryRun ? `Would ${todo}` : done} '${t(name)}' ${o.action === "removed" ? "from" : "in"} ${o.client.label} (${t(o.file)})`);
  for (const c of o.commands) out(`  ${dryRun ? "would run" : "ran"}: ${c.map(t).join(" ")}`);
  if (o.diff) out(o.diff);
  if (detail) out(`  ${detail}`);
  if (o.backup) out(`  backup: ${o.backup}`);
  if (!dryRun) out(`Next: ${o.client.restartHint}`);
}

/**
 * Runs an MCP client config change (`apply(dryRun)`): first as a dry run, which reads and
 * checks the config and says what would change; when something would, it is done audited —
 * an intent line before the config is edited, the outcome after (Broker.auditChange), as the
 * change is made around the broker, not through it. Nothing to change (or a file refused)
 * writes no line and opens no store. The target names the client, scope and server name.
 */
export async function auditedClientChange(ctx: Pick<CliContext<any>, "withRuntime">, event: "install" | "uninstall", choice: ClientChoice, apply: (dryRun: boolean) => InstallOutcome): Promise<InstallOutcome> {
  const preview = apply(true);
  if (choice.dryRun || preview.action === "unchanged" || preview.action === "absent") return preview;
  // The store's fallback warning is for commands that keep secrets; status and doctor show it.
  return ctx.withRuntime(undefined, (rt) => rt.broker.auditChange({ event, target: `${choice.client} (${choice.scope}): ${choice.name}` }, { client: "cli", user: true }, async () => apply(false)), { quietStoreWarning: true });
}

export const installCommand = command({
  examples: [
    "mcp-credentials-broker install claude-code            # via `claude mcp add` when claude is on PATH",
    "mcp-credentials-broker install cursor --dry-run       # show the change, write nothing",
    "mcp-credentials-broker install vscode --scope project # .vscode/mcp.json in this directory",
    "mcp-credentials-broker install claude --command-path /opt/homebrew/bin/mcp-credentials-broker",
  ],
  meta: { name: "install", description: "Add the broker to an MCP client's config (claude, claude-code, cursor, vscode, windsurf, amazonq) with a path that survives upgrades." },
  args: {
    ...clientArgs,
    "command-path": { type: "string", description: "Absolute path to write as the command (default: this binary; Homebrew's opt path, Scoop's current path)", valueHint: "path" },
  },
  async run(ctx) {
    const { args, out } = ctx;
    const choice = parseClientChoice(args);
    const info = await buildInfo();
    const deps = await ctx.installDeps();
    const command = resolveCommandPath({ flag: args["command-path"], execPath: process.execPath, isCompiled: info.isCompiled, platform: process.platform, exists: existsSync });
    const outcome = await auditedClientChange(ctx, "install", choice, (dryRun) => installClient({ ...choice, dryRun, command: command.path }, deps));
    const why = { homebrew: " (Homebrew's opt link: stays valid across upgrades)", scoop: " (Scoop's current folder: stays valid across updates)", "as-is": "" }[command.origin];
    printOutcome(out, outcome, choice.name, choice.dryRun, `command: ${command.path}${why}`);
  },
});
