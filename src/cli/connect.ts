// `connect <url>`: serve a remote MCP server to a stdio-only MCP client, signing in when the
// server first asks for it (a 401) — or never, for a server without auth. stdout is the MCP
// channel: every message for people goes to stderr.
import { optionalPort } from "../net/port.ts";
import type { LoginMode } from "../oauth/login.ts";
import { command } from "./command.ts";
import { storeArg } from "./common.ts";
import { terminalUi } from "./login.ts";
import { remoteClientArgs, withRemoteClientFlags } from "./remote-flags.ts";


const quietSpinner = { set() {}, pause() {} };

export const connectCommand = command({
  meta: { name: "connect", description: "Bridge a stdio MCP client to a remote MCP server (Streamable HTTP, or HTTP+SSE), signing in with OAuth when the server asks (401), asking for more scopes when it answers 403 insufficient_scope, and refreshing the token. A server without auth needs no sign-in." },
  examples: [
    "mcp-credentials-broker connect https://mcp.example.com/mcp          # in an MCP client's config, as the command",
    "mcp-credentials-broker connect https://mcp.example.com/mcp --device # sign in with a code on another device",
    "CLIENT_SECRET=… mcp-credentials-broker connect https://mcp.example.com/mcp --client-id my-app   # a pre-registered client",
    "mcp-credentials-broker connect https://mcp.example.com/mcp --client-metadata-url https://example.com/mcp-client.json   # Client ID Metadata Document",
    "CLIENT_SECRET=… mcp-credentials-broker connect https://mcp.example.com/mcp --client-credentials --client-id svc   # machine to machine, no browser",
    "mcp-credentials-broker connect https://mcp.example.com/mcp --client-credentials --client-id svc --private-key key.pem   # private_key_jwt",
    "HTTPS_PROXY=http://proxy.corp:3128 NODE_EXTRA_CA_CERTS=/etc/corp-ca.pem mcp-credentials-broker connect https://mcp.example.com/mcp   # behind a corporate proxy",
  ],
  args: {
    url: { type: "positional", required: true, description: "The remote MCP endpoint, e.g. https://mcp.example.com/mcp" },
    ...remoteClientArgs,
    device: { type: "boolean", description: "Sign in with the device flow (RFC 8628) when the server offers it" },
    port: { type: "string", description: "Callback port for the sign-in (default: MCB_CALLBACK_PORT, else 9876)", valueHint: "port" },
    ...storeArg,
  },
  async run({ args, note, withRuntime }) {
    const port = optionalPort(args.port, "--port");
    const mode: LoginMode = args.device ? "device" : "auto";
    await withRuntime(args.store, async (rt) => {
      const [{ remoteConfig }, { RemoteSession }, { runConnect }] = await Promise.all([import("../remote/config.ts"), import("../remote/session.ts"), import("../remote/connect.ts")]);
      const cfg = remoteConfig(args.url, withRemoteClientFlags(rt.config.remoteVars, args));
      const session = new RemoteSession(cfg, await rt.remoteDeps());
      const defaults = rt.config.login;
      const login = async (scopes?: string[]): Promise<string | null> => {
        note(`${scopes ? `${cfg.server.origin} asks for more access (${scopes.join(" ")}); signing in again` : `Signing in to ${cfg.server.origin}`} (the MCP client waits meanwhile)…`);
        const rec = await session.login(terminalUi(mode, quietSpinner, note), { mode, timeoutMs: defaults.timeoutMs, port: port ?? defaults.port, ...(scopes ? { scopes } : {}) });
        note("Signed in; the token is stored and refreshed automatically.");
        return rec.value;
      };
      // No sign-in up front: the first request tells whether the server wants one (401), and a
      // server without auth is used as it is. A failed sign-in reaches the client as its error.
      await runConnect({ session, fetch: (input, init) => fetch(input, init), log: rt.log, login });
    });
  },
});
