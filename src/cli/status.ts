// `status`: which backend and data dir are in use, how many secrets, how tokens are signed.
import { defineCommand } from "citty";
import { brokerVersion, openRuntime, type Runtime } from "../deps.ts";
import { REMOTE_TOKEN_PREFIX } from "../remote/config.ts";
import { jsonArg, out, storeArg, when } from "./common.ts";
import { examples } from "./dispatch.ts";
import { terminalText as t } from "./terminal-text.ts";

examples.set("status", ["mcp-credentials-broker status", "mcp-credentials-broker status --json"]);

export const statusCommand = defineCommand({
  meta: { name: "status", description: "Show the storage backend (and why), the data dir, stored secrets, remote MCP logins and the token signing mode." },
  args: { ...jsonArg, ...storeArg },
  async run({ args }) {
    const version = await brokerVersion();
    // The fallback warning is part of the report, every time, instead of a stderr line said once.
    const s = await withQuietRuntime(args.store, async (rt) => {
      const secrets = await rt.broker.listSecrets();
      const { configuredProviders } = await import("../oauth/provider-settings.ts");
      return {
        version,
        dataDir: rt.dataDir,
        store: { backend: rt.broker.deps.store.backend, description: rt.broker.deps.store.description, reason: rt.storeReason, ...(rt.storeWarning ? { warning: rt.storeWarning } : {}) },
        secrets: secrets.map((e) => e.name),
        providers: await configuredProviders(rt.broker.deps.store, rt.env),
        // Remote MCP logins (proxy, connect): the server and expiry only; `proxy status` has the rest.
        remote: (await rt.broker.deps.store.list())
          .filter((e) => e.name.startsWith(REMOTE_TOKEN_PREFIX) && e.tags?.upstream)
          .map((e) => ({ upstream: e.tags!.upstream!, ...(e.expiresAt !== undefined ? { expiresAt: e.expiresAt } : {}) })),
        tokenSigning: rt.broker.deps.jwtSecret ? "HS256 (JWT_SECRET)" : "ES256 (key pair kept in the store)",
      };
    });
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

/** withRuntime (common.ts) without the fallback warning on stderr: status reports it itself. */
async function withQuietRuntime<T>(storeFlag: string | undefined, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = await openRuntime({ storeFlag, quietStoreWarning: true });
  try {
    return await fn(rt);
  } finally {
    await rt.broker.close();
  }
}
