// `secret list`: names and metadata of stored secrets, never values.
import { formatDuration } from "../core/approval.ts";
import { command } from "./command.ts";
import { jsonArg, storeArg, when } from "./common.ts";
import { terminalText } from "./terminal-text.ts";

export const secretListCommand = command({
  examples: ["mcp-credentials-broker secret list", "mcp-credentials-broker secret list --json | jq -r '.[].name'"],
  meta: { name: "list", description: "List stored secrets (names, policy, hosts, tags, dates). Values are never shown." },
  args: { ...jsonArg, ...storeArg },
  async run({ args, out, withRuntime }) {
    const list = await withRuntime(args.store, (rt) => rt.broker.listSecrets());
    if (args.json) return out(JSON.stringify(list, null, 2));
    if (list.length === 0) return out("No secrets stored. Add one with: mcp-credentials-broker secret set <name>");
    // Names and tags may be an agent's (store_secret): every field escaped, so none forges a row.
    for (const s of list) {
      const tags = s.tags ? Object.entries(s.tags).map(([k, v]) => `${terminalText(k)}=${terminalText(v)}`).join(",") : "";
      const hosts = s.hosts?.length ? `\thosts ${s.hosts.map(terminalText).join(",")}` : "";
      const approval = s.approval ? `\tvia ${s.approval.via}${s.approval.rememberSeconds ? `, remember ${formatDuration(s.approval.rememberSeconds)}` : ""}` : "";
      out(`${terminalText(s.name)}\t${terminalText(s.policy)}\tupdated ${when(s.updatedAt)}${approval}${hosts}${tags ? `\t${tags}` : ""}`);
    }
  },
});
