// `provider list`: which providers are configured, and from where — never a secret.
import { defineCommand } from "citty";
import { configuredProviders, loadProviderSettings } from "../oauth/provider-settings.ts";
import { clientCredentials, PROVIDER_IDS, PROVIDERS } from "../oauth/providers.ts";
import { jsonArg, out, storeArg, withRuntime } from "./common.ts";
import { examples } from "./dispatch.ts";
import { terminalText } from "./terminal-text.ts";

examples.set("provider list", ["mcp-credentials-broker provider list", "mcp-credentials-broker provider list --json"]);

export const providerListCommand = defineCommand({
  meta: { name: "list", description: "Show each OAuth provider's client id and where it comes from (environment or provider add). Secrets are never shown." },
  args: { ...jsonArg, ...storeArg },
  async run({ args }) {
    const rows = await withRuntime(args.store, async (rt) => {
      const sources = new Map((await configuredProviders(rt.broker.deps.store, rt.env)).map((c) => [c.provider, c.source]));
      return Promise.all(
        PROVIDER_IDS.map(async (id) => {
          const creds = clientCredentials(id, rt.env, await loadProviderSettings(rt.broker.deps.store, id));
          return { provider: id, configured: creds !== null, source: sources.get(id) ?? null, clientId: creds?.clientId ?? null, hasSecret: creds?.clientSecret !== undefined };
        }),
      );
    });
    if (args.json) return out(JSON.stringify(rows, null, 2));
    for (const r of rows) out(r.configured ? `${r.provider}\t${r.source}\tclient ${terminalText(r.clientId ?? "")}${r.hasSecret ? " (with secret)" : " (public)"}` : `${r.provider}\tnot configured (set ${PROVIDERS[r.provider].clientIdVars.join(" or ")}, or run provider add ${r.provider})`);
  },
});
