// `secret list`: names and metadata of stored secrets, never values.
import { defineCommand } from "citty";
import { formatDuration } from "../core/approval.ts";
import { jsonArg, out, storeArg, when, withRuntime } from "./common.ts";
import { examples } from "./dispatch.ts";
import { terminalText } from "./terminal-text.ts";

examples.set("secret list", ["mcp-credentials-broker secret list", "mcp-credentials-broker secret list --json | jq -r '.[].name'"]);

export const secretListCommand = defineCommand({
  meta: { name: "list", description: "List stored secrets (names, policy, hosts, tags, dates). Values are never shown." },
  args: { ...jsonArg, ...storeArg },
  async run({ args }) {
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
