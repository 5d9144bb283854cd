// `status`: which backend and data dir are in use, how many secrets, how tokens are signed.
import { brokerVersion } from "../build-info.ts";
import { command } from "./command.ts";
import { jsonArg, storeArg, when } from "./common.ts";
import { terminalText as t } from "./terminal-text.ts";

export const statusCommand = command({
  examples: ["mcp-credentials-broker status", "mcp-credentials-broker status --json"],
  meta: { name: "status", description: "Show the storage backend (and why), the data dir, stored secrets, remote MCP logins and the token signing mode." },
  args: { ...jsonArg, ...storeArg },
  async run({ args, out, withRuntime }) {
    const version = await brokerVersion();
    // The fallback warning is part of the report, every time, instead of a stderr line said once.
    const s = await withRuntime(
      args.store,
      async (rt) => {
        const core = await rt.broker.status();
        const { configuredProviders } = await import("../oauth/provider-settings.ts");
        return {
          version,
          dataDir: rt.dataDir,
          store: { ...core.store, reason: rt.storeReason, ...(rt.storeWarning ? { warning: rt.storeWarning } : {}) },
          secrets: core.secrets,
          providers: configuredProviders(core.savedProviders, rt.config.oauthVars),
          // Remote MCP logins (proxy, connect): the server and expiry only; `proxy status` has the rest.
          remote: core.remoteLogins,
          tokenSigning: core.tokenSigning,
        };
      },
      { quietStoreWarning: true },
    );
    if (args.json) return out(JSON.stringify(s, null, 2));
    // Secret names may be an agent's (store_secret): each field escaped (terminal-text.ts).
    out(`mcp-credentials-broker ${t(s.version)}`);
    out(`data dir:      ${t(s.dataDir)}`);
    out(`store:         ${t(s.store.description)}`);
    out(`               (${t(s.store.reason)})`);
    if (s.store.warning) out(`warning:       ${t(s.store.warning)}`);
    out(`secrets:       ${s.secrets.length}${s.secrets.length ? ` (${s.secrets.map(t).join(", ")})` : ""}`);
    out(`OAuth:         ${s.providers.length ? s.providers.map((p) => `${t(p.provider)} (${t(p.source)})`).join(", ") : "no provider configured (see: mcp-credentials-broker provider list)"}`);
    out(`remote MCP:    ${s.remote.length ? s.remote.map((r) => `${t(r.upstream)} (token until ${when(r.expiresAt)})`).join(", ") : "no login (see: mcp-credentials-broker connect --help)"}`);
    out(`token signing: ${s.tokenSigning}`);
  },
});
