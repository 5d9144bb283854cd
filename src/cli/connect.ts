// `connect <url>`: serve a remote (OAuth-protected) MCP server to a stdio-only MCP client,
// logging in first when there is no stored login. stdout is the MCP channel: every
// message for people goes to stderr.
import { defineCommand } from "citty";
import { BrokerError } from "../errors.ts";
import type { LoginMode } from "../oauth/login.ts";
import { storeArg, withRuntime } from "./common.ts";
import { parseScopes, terminalUi } from "./login.ts";
import { examples } from "./run-cli.ts";

examples.set("connect", [
  "mcp-credentials-broker connect https://mcp.example.com/mcp          # in an MCP client's config, as the command",
  "mcp-credentials-broker connect https://mcp.example.com/mcp --device # sign in with a code on another device",
  "CLIENT_ID=my-app mcp-credentials-broker connect https://mcp.example.com/mcp   # a pre-registered client",
  "HTTPS_PROXY=http://proxy.corp:3128 NODE_EXTRA_CA_CERTS=/etc/corp-ca.pem mcp-credentials-broker connect https://mcp.example.com/mcp   # behind a corporate proxy",
]);

const quietSpinner = { set() {}, pause() {} };

export const connectCommand = defineCommand({
  meta: { name: "connect", description: "Bridge a stdio MCP client to a remote MCP server (Streamable HTTP, or HTTP+SSE), logging in with OAuth and refreshing the token." },
  args: {
    url: { type: "positional", required: true, description: "The remote MCP endpoint, e.g. https://mcp.example.com/mcp" },
    scopes: { type: "string", description: "Scopes to ask for (default: SCOPES, else the server's, else mcp:tools mcp:resources offline_access)", valueHint: "scopes" },
    device: { type: "boolean", description: "Sign in with the device flow (RFC 8628) when the server offers it" },
    port: { type: "string", description: "Callback port for the sign-in (default: MCB_CALLBACK_PORT, else 9876)", valueHint: "port" },
    ...storeArg,
  },
  async run({ args }) {
    const port = args.port === undefined ? undefined : Number(args.port);
    if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) throw new BrokerError("INVALID_INPUT", "--port must be a TCP port number (1-65535).");
    const mode: LoginMode = args.device ? "device" : "auto";
    await withRuntime(args.store, async (rt) => {
      const [{ remoteConfig }, { RemoteSession }, { runConnect }, { loginDefaults }] = await Promise.all([import("../remote/config.ts"), import("../remote/session.ts"), import("../remote/connect.ts"), import("../deps.ts")]);
      const scopes = parseScopes(args.scopes);
      const cfg = remoteConfig(args.url, { ...rt.env, ...(scopes ? { SCOPES: scopes.join(" ") } : {}) });
      const session = new RemoteSession(cfg, await rt.remoteDeps());
      const defaults = loginDefaults(rt.env, rt.log);
      const login = async (): Promise<string | null> => {
        process.stderr.write(`Signing in to ${cfg.server.origin} (the MCP client waits meanwhile)…\n`);
        const rec = await session.login(terminalUi(mode, quietSpinner), { mode, timeoutMs: defaults.timeoutMs, port: port ?? defaults.port });
        process.stderr.write("Signed in; the token is stored and refreshed automatically.\n");
        return rec.value;
      };
      // MCP hosts show nothing until the server answers; log in before serving so the first request works.
      if (!(await session.accessToken())) await login();
      await runConnect({ session, fetch: (input, init) => fetch(input, init), log: rt.log, login: () => login().catch(() => null) });
    });
  },
});
