// `secret migrate --from file --to keychain`: moves every secret (and the broker's own keys)
// between backends, verifying each before the source copy is deleted.
import { privateDataDir } from "../runtime.ts";
import { openStore, parseMigrationBackend, storeSettings } from "../store/select.ts";
import { BrokerError } from "../errors.ts";
import { migrateStore } from "../store/migrate.ts";
import { command } from "./command.ts";
import { jsonArg } from "./common.ts";
import { terminalText } from "./terminal-text.ts";

export const secretMigrateCommand = command({
  examples: [
    "mcp-credentials-broker secret migrate --from file --to keychain",
    "mcp-credentials-broker secret migrate --from keychain --to file --keep   # copy, keep the keychain items",
  ],
  meta: {
    name: "migrate",
    description: "Move every secret (and the broker's own keys) from one backend to another. Each record is read back from the target before the source copy is deleted. Stop running brokers first.",
  },
  args: {
    from: { type: "string", description: "Source backend: file or keychain", valueHint: "file|keychain", required: true },
    to: { type: "string", description: "Target backend: file or keychain", valueHint: "file|keychain", required: true },
    keep: { type: "boolean", description: "Copy only: keep the records in the source" },
    overwrite: { type: "boolean", description: "Replace records the target already holds with different content" },
    ...jsonArg,
  },
  async run({ args, config, out, withRuntime }) {
    const from = parseMigrationBackend(args.from, "from");
    const to = parseMigrationBackend(args.to, "to");
    if (from === to) throw new BrokerError("INVALID_INPUT", "--from and --to name the same backend: nothing to migrate.");
    const dataDir = privateDataDir(config);
    const settings = storeSettings(config);
    // Audited through the source's broker (its audit key moves with the rest; the line is kept in memory meanwhile).
    const report = await withRuntime(from, (rt) =>
      rt.broker.auditChange({ event: "migrate", target: `${from} → ${to}` }, { client: "cli", user: true }, async () => {
        const source = (await openStore(from, dataDir, settings)).store;
        const target = (await openStore(to, dataDir, settings)).store;
        try {
          return await migrateStore(source, target, async () => (await openStore(to, dataDir, settings)).store, { keep: Boolean(args.keep), overwrite: Boolean(args.overwrite) });
        } finally {
          await source.close();
          await target.close();
        }
      }),
    );
    if (args.json) return out(JSON.stringify({ from, to, ...report }, null, 2));
    const what = `${report.secrets.length} secret(s)${report.internal ? ` and ${report.internal} internal item(s) (the broker's signing and audit keys)` : ""}`;
    out(`${report.removedFromSource ? "Moved" : "Copied"} ${what} from ${from} to ${to}.`);
    // Names may be an agent's (store_secret): escaped, so none forges a line.
    if (report.secrets.length) out(`  ${report.secrets.map(terminalText).join(", ")}`);
    if (report.unchanged.length) out(`Already identical in ${to}: ${report.unchanged.map(terminalText).join(", ")}`);
  },
});
