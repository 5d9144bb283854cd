// `proxy`: serve a local, always-authenticated endpoint for a remote MCP server (mcp_auth_proxy
// compatible), in the foreground or in the background (`proxy start|stop|status|logs`).
// Every flag mirrors one of mcp_auth_proxy's variables; CLIENT_SECRET is taken from the
// environment only (argv is visible to every user of the machine).
import { buildInfo } from "../build-info.ts";
import { BrokerError } from "../errors.ts";
import type { Config } from "../config.ts";
import { optionalPort } from "../net/port.ts";
import { DEFAULT_PROXY_PORT } from "../remote/proxy-config.ts";
import { command } from "./command.ts";
import { jsonArg, storeArg } from "./common.ts";
import { REMOTE_CLIENT_VARS, remoteClientArgs } from "./remote-flags.ts";

/** Flag → variable: the flags mirror mcp_auth_proxy's environment variables. */
const FLAG_VARS = {
  upstream: "UPSTREAM_MCP_URL",
  port: "PORT",
  bind: "BIND",
  "public-base-url": "PUBLIC_BASE_URL",
  "redirect-path": "REDIRECT_PATH",
  "keychain-service": "KEYCHAIN_SERVICE",
  "probe-path": "PROBE_PATH",
  "authorization-endpoint": "AUTHORIZATION_ENDPOINT",
  "token-endpoint": "TOKEN_ENDPOINT",
  issuer: "ISSUER",
  "auto-register-client": "AUTO_REGISTER_CLIENT",
  ...REMOTE_CLIENT_VARS,
} as const;

const proxyArgs = {
  upstream: { type: "string", description: "The remote MCP endpoint (UPSTREAM_MCP_URL)", valueHint: "url" },
  port: { type: "string", description: "Port to listen on (PORT, default 5177)", valueHint: "port" },
  bind: { type: "string", description: "Address to listen on (BIND, default 127.0.0.1; another one only when set explicitly)", valueHint: "address" },
  "public-base-url": { type: "string", description: "URL clients and browsers use to reach the proxy (PUBLIC_BASE_URL)", valueHint: "url" },
  "redirect-path": { type: "string", description: "OAuth callback path (REDIRECT_PATH, default /oauth/callback)", valueHint: "path" },
  "keychain-service": { type: "string", description: "Name the login is stored under (KEYCHAIN_SERVICE, default: the upstream URL)", valueHint: "name" },
  "probe-path": { type: "string", description: "Further path to look for RFC 9728 metadata at (PROBE_PATH)", valueHint: "path" },
  "authorization-endpoint": { type: "string", description: "Explicit authorization endpoint, with --token-endpoint (AUTHORIZATION_ENDPOINT)", valueHint: "url" },
  "token-endpoint": { type: "string", description: "Explicit token endpoint (TOKEN_ENDPOINT)", valueHint: "url" },
  issuer: { type: "string", description: "Issuer of the explicit endpoints (ISSUER)", valueHint: "url" },
  "auto-register-client": { type: "string", description: "Dynamic client registration, true or false (AUTO_REGISTER_CLIENT, default true)", valueHint: "true|false" },
  ...remoteClientArgs,
  ...storeArg,
} as const;

type ProxyArgs = { [K in keyof typeof FLAG_VARS]?: string | boolean } & { store?: string };

/** The environment with the flags laid over it. */
function withFlags(env: Record<string, string | undefined>, args: ProxyArgs): Record<string, string | undefined> {
  const merged = { ...env };
  for (const [flag, name] of Object.entries(FLAG_VARS)) {
    const v = args[flag as keyof typeof FLAG_VARS];
    if (typeof v === "string") merged[name] = v;
    else if (v === true) merged[name] = "true";
  }
  return merged;
}

async function loadConfigs(env: Record<string, string | undefined>) {
  const [{ remoteConfig }, { proxyConfig }] = await Promise.all([import("../remote/config.ts"), import("../remote/proxy-config.ts")]);
  return { remote: remoteConfig(undefined, env), proxy: proxyConfig(env) };
}

async function files(dataDir: string, port: number) {
  const { backgroundFiles } = await import("../remote/background.ts");
  return backgroundFiles(dataDir, port);
}

const startCommand = command({
  meta: { name: "start", description: "Start the proxy in the background (pid and log files in the data dir)" },
  args: proxyArgs,
  async run({ args, note, withRuntime }) {
    await withRuntime(args.store, async (rt) => {
      const env = withFlags(rt.config.remoteVars, args);
      const cfg = await loadConfigs(env);
      const info = await buildInfo();
      const self = info.isCompiled ? [process.execPath] : [process.execPath, Bun.main];
      const { startBackground } = await import("../remote/background.ts");
      const f = await files(rt.dataDir, cfg.proxy.port);
      // The broker re-run in the background inherits this environment, with the flags as its variables.
      const childEnv = { ...rt.config.inherited, ...env, ...(args.store ? { MCB_STORE: args.store } : {}) };
      // A process that serves the stored login: started around the broker, so audited here.
      const started = await rt.broker.auditChange({ event: "proxy-start", target: `${cfg.remote.server.origin} on port ${cfg.proxy.port}` }, { client: "cli", user: true }, () =>
        startBackground(f, [...self, "proxy"], childEnv, { port: cfg.proxy.port, upstream: cfg.remote.server.href, healthUrl: `http://127.0.0.1:${cfg.proxy.port}/health` }),
      );
      note(`Proxy started (pid ${started.pid}) on ${cfg.proxy.publicBaseUrl.href} for ${cfg.remote.server.href}.\nSign in: ${cfg.proxy.publicBaseUrl.href.replace(/\/$/, "")}/oauth/login   Log: ${f.log}`);
    });
  },
});

const portArg = { port: { type: "string", description: "Port of the proxy (PORT, default 5177)", valueHint: "port" } } as const;

function portOf(config: Config, flag: string | undefined): number {
  return optionalPort(flag, "--port") ?? optionalPort(config.remoteVars.PORT, "PORT") ?? DEFAULT_PROXY_PORT;
}

/**
 * The data dir (checked private) for stop, status and logs: they read the pid and log files
 * there and open no store, so they never ask the keychain (test/runtime.test.ts).
 */
async function dataDir(config: Config): Promise<string> {
  return (await import("../runtime.ts")).privateDataDir(config);
}

const stopCommand = command({
  meta: { name: "stop", description: "Stop the background proxy" },
  args: { ...portArg, ...storeArg },
  async run({ args, config, note, withRuntime }) {
    const port = portOf(config, args.port);
    const { runningProxy, stopBackground } = await import("../remote/background.ts");
    const f = await files(await dataDir(config), port);
    const running = runningProxy(f);
    // Stopping a running proxy is audited. Otherwise nothing is stopped and no store is opened:
    // stopBackground only drops a stale pid file, or refuses one it cannot check.
    const stopped = running
      ? await withRuntime(args.store, (rt) => rt.broker.auditChange({ event: "proxy-stop", target: `${originOf(running.upstream)} on port ${port}` }, { client: "cli", user: true }, () => stopBackground(f)))
      : await stopBackground(f);
    note(stopped ? "Proxy stopped." : "No proxy is running on that port.");
  },
});

/** The origin of an upstream URL read from the pid file, or the text as it is (escaped when printed). */
function originOf(url: string): string {
  return URL.parse(url)?.origin ?? url;
}

const statusCommand = command({
  meta: { name: "status", description: "Show whether the background proxy runs, its upstream, endpoints, client id and token expiry (never a token)" },
  args: { ...portArg, ...jsonArg, ...storeArg },
  async run({ args, config, out }) {
    const port = portOf(config, args.port);
    const { runningProxy } = await import("../remote/background.ts");
    const running = runningProxy(await files(await dataDir(config), port));
    const oauth = running
      ? await fetch(`http://127.0.0.1:${port}/oauth/status`, { signal: AbortSignal.timeout(5000) })
          .then((r) => r.json() as Promise<Record<string, unknown>>)
          .catch(() => null)
      : null;
    const data = { running: running !== null, ...(running ? { pid: running.pid, port, upstream: running.upstream, startedAt: running.startedAt } : {}), ...(oauth ? { oauth } : {}) };
    if (args.json) return out(JSON.stringify(data, null, 2));
    if (!running) return out(`No proxy is running on port ${port}.`);
    out(`Proxy running (pid ${running.pid}) on port ${port} for ${running.upstream}`);
    if (oauth) {
      out(`signed in:   ${oauth.loggedIn ? "yes" : `no — open ${oauth.loginUrl}`}`);
      for (const k of ["issuer", "authorizationEndpoint", "tokenEndpoint", "clientId", "scope"] as const) if (oauth[k]) out(`${k.padEnd(12)} ${oauth[k]}`);
      if (typeof oauth.expiresAt === "number") out(`token expiry ${new Date(oauth.expiresAt).toISOString()} (${oauth.refreshable ? "refreshed automatically" : "no refresh token"})`);
    }
  },
});

const logsCommand = command({
  meta: { name: "logs", description: "Print the end of the background proxy's log" },
  args: { ...portArg, lines: { type: "string", description: "How many lines (default 100)", valueHint: "n" }, ...storeArg },
  async run({ args, config, out }) {
    const { tailLog } = await import("../remote/background.ts");
    if (args.lines !== undefined && !/^[1-9]\d{0,5}$/.test(args.lines.trim())) throw new BrokerError("INVALID_INPUT", `--lines must be a whole number from 1 to 999999 (got ${JSON.stringify(args.lines.slice(0, 20))}).`);
    const text = tailLog(await files(await dataDir(config), portOf(config, args.port)), args.lines === undefined ? 100 : Number(args.lines));
    if (text) out(text);
  },
});

export const proxyCommand = command({
  examples: [
    "mcp-credentials-broker proxy --upstream https://mcp.example.com/mcp     # then open http://127.0.0.1:5177/oauth/login",
    "mcp-credentials-broker proxy start --upstream https://mcp.example.com/mcp   # in the background",
    "mcp-credentials-broker proxy status",
    "mcp-credentials-broker proxy logs",
    "mcp-credentials-broker proxy stop",
    "UPSTREAM_MCP_URL=https://mcp.example.com/mcp PORT=8080 mcp-credentials-broker proxy",
    "CLIENT_SECRET=… mcp-credentials-broker proxy --upstream https://mcp.example.com/mcp --client-credentials --client-id svc   # machine to machine, no browser",
  ],
  meta: { name: "proxy", description: "Serve a local MCP endpoint for a remote OAuth-protected MCP server (mcp_auth_proxy compatible): it logs in once and injects and refreshes the token." },
  args: proxyArgs,
  subCommands: { start: startCommand, stop: stopCommand, status: statusCommand, logs: logsCommand },
  // Runs only without a sub-command: dispatch.ts runs the sub-command named instead.
  async run({ args, note, withRuntime }) {
    await withRuntime(args.store, async (rt) => {
      const env = withFlags(rt.config.remoteVars, args);
      const cfg = await loadConfigs(env);
      const [{ RemoteSession }, { startProxy }] = await Promise.all([import("../remote/session.ts"), import("../remote/proxy.ts")]);
      if (cfg.proxy.warning) rt.log.warn(cfg.proxy.warning);
      // Sign-ins and sign-outs through the proxy's /oauth/login and /oauth/logout are audited.
      const session = new RemoteSession(cfg.remote, await rt.remoteDeps());
      const proxy = await startProxy({ config: cfg.proxy, session, fetch: (input, init) => fetch(input, init), log: rt.log, loginTimeoutMs: rt.config.login.timeoutMs });
      const base = cfg.proxy.publicBaseUrl.href.replace(/\/$/, "");
      const signedIn = (await session.accessToken().catch(() => null)) !== null;
      note(`Proxy for ${cfg.remote.server.href} listening on ${proxy.url} (MCP endpoint: ${base}/mcp).\n${signedIn ? "Signed in." : `Not signed in yet: open ${base}/oauth/login in a browser.`}`);
      const done = Promise.withResolvers<void>();
      for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => done.resolve());
      await done.promise;
      await proxy.stop();
    });
  },
});
