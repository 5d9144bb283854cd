// `provider list`: which providers are configured, and from where — never a secret.
import { configuredProviders } from "../oauth/provider-settings.ts";
import { clientCredentials, PROVIDER_IDS, PROVIDERS } from "../oauth/providers.ts";
import { command } from "./command.ts";
import { jsonArg, storeArg } from "./common.ts";
import { terminalText } from "./terminal-text.ts";

export const providerListCommand = command({
  examples: ["mcp-credentials-broker provider list", "mcp-credentials-broker provider list --json"],
  meta: { name: "list", description: "Show each OAuth provider's client id and where it comes from (environment or provider add). Secrets are never shown." },
  args: { ...jsonArg, ...storeArg },
  async run({ args, out, withRuntime }) {
    const rows = await withRuntime(args.store, async (rt) => {
      const env = rt.config.oauthVars;
      const saved = new Map((await rt.broker.savedProviders()).map((p) => [p.provider, p]));
      const sources = new Map(configuredProviders([...saved.keys()], env).map((c) => [c.provider, c.source]));
      return PROVIDER_IDS.map((id) => {
        // The environment's client wins (clientCredentials); else the saved one, whose secret the core never hands out.
        const fromEnv = clientCredentials(id, env, null);
        const s = saved.get(id);
        const creds = fromEnv ? { clientId: fromEnv.clientId, hasSecret: fromEnv.clientSecret !== undefined } : s ? { clientId: s.clientId, hasSecret: s.hasSecret } : null;
        return { provider: id, configured: creds !== null, source: sources.get(id) ?? null, clientId: creds?.clientId ?? null, hasSecret: creds?.hasSecret ?? false };
      });
    });
    if (args.json) return out(JSON.stringify(rows, null, 2));
    for (const r of rows) out(r.configured ? `${r.provider}\t${r.source}\tclient ${terminalText(r.clientId ?? "")}${r.hasSecret ? " (with secret)" : " (public)"}` : `${r.provider}\tnot configured (set ${PROVIDERS[r.provider].clientIdVars.join(" or ")}, or run provider add ${r.provider})`);
  },
});
