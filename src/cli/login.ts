// `login <provider|https-url>`: OAuth sign-in in the browser (or the device flow, or a pasted
// redirect URL), storing the token and its refresh token under --name.
import { createInterface } from "node:readline";
import { BrokerError } from "../errors.ts";
import { optionalPort } from "../net/port.ts";
import type { LoginUi } from "../oauth/oauth-deps.ts";
import type { LoginMode } from "../oauth/login.ts";
import { isProviderId, PROVIDER_IDS, type ProviderId } from "../oauth/providers.ts";
import { command, type InStream } from "./command.ts";
import { jsonArg, storeArg } from "./common.ts";
import { startSpinner } from "./spinner.ts";
import { terminalText } from "./terminal-text.ts";


/** `--scopes` takes a space- or comma-separated list (RFC 6749 §3.3 joins scopes with spaces; commas need no quoting). */
export function parseScopes(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const list = raw.split(/[\s,]+/).filter(Boolean);
  return list.length > 0 ? list : undefined;
}

/** Provider id and issuer override from the positional: a preset name or an https:// issuer. */
export function parseTarget(raw: string, issuerFlag: string | undefined): { provider: ProviderId; issuer?: string; defaultName: string } {
  if (isProviderId(raw)) return { provider: raw, ...(issuerFlag ? { issuer: issuerFlag } : {}), defaultName: `${raw}-token` };
  if (/^https?:\/\//i.test(raw)) {
    const host = URL.parse(raw)?.hostname;
    if (!host) throw new BrokerError("INVALID_INPUT", `'${raw.slice(0, 100)}' is not a valid issuer URL.`);
    return { provider: "oauth2", issuer: raw, defaultName: `${host}-token` };
  }
  throw new BrokerError("INVALID_INPUT", `Unknown provider '${raw.slice(0, 64)}'. Use one of: ${PROVIDER_IDS.join(", ")}, or an https:// issuer URL.`);
}

/** Lines typed (or piped) on stdin, for the pasted redirect URL. */
async function* stdinLines(stdin: InStream): AsyncIterable<string> {
  const rl = createInterface({ input: stdin, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of rl) yield line;
  } finally {
    rl.close();
  }
}

/**
 * The terminal UI: URL for copy-paste, the device code, a spinner while waiting. `say` writes a
 * message line on stderr (the command's note); URLs and codes from the provider go through
 * terminalText first.
 */
export function terminalUi(mode: LoginMode, spinner: { set(m: string): void; pause(): void }, say: (line: string) => void): LoginUi {
  return {
    authorizationUrl(url, opened, redirectUri) {
      spinner.pause();
      if (opened) say(`Opened your browser to sign in. If it did not open, visit:\n\n  ${terminalText(url)}\n`);
      else say(`Open this URL in a browser to sign in:\n\n  ${terminalText(url)}\n`);
      if (mode === "paste" || !opened) {
        const port = new URL(redirectUri).port;
        say(`After signing in, the browser goes to ${terminalText(redirectUri)}?… If this machine is remote, that page will not load:`);
        say(`copy the full address from the browser's address bar and paste it here, then press Enter.`);
        say(`(Or forward the port first, from your own machine: ssh -L ${port}:127.0.0.1:${port} <this-host>)\n`);
      }
      spinner.set("Waiting for the sign-in to finish in the browser…");
    },
    deviceCode(d) {
      spinner.pause();
      say(`To sign in, open ${terminalText(d.verificationUri)} on any device and enter the code:\n\n  ${terminalText(d.userCode)}\n`);
      if (d.verificationUriComplete) say(`(or open ${terminalText(d.verificationUriComplete)} directly)`);
      say(`The code is valid for ${Math.max(1, Math.round(d.expiresIn / 60))} minutes.`);
      spinner.set("Waiting for the code to be approved…");
    },
    progress(m) {
      spinner.set(m);
    },
  };
}

export const loginCommand = command({
  examples: [
    "mcp-credentials-broker login github                       # browser; token stored as github-token",
    "mcp-credentials-broker login google --scopes 'openid email https://www.googleapis.com/auth/drive.readonly'",
    "mcp-credentials-broker login azure --device               # over SSH / in a container: enter a code elsewhere",
    "mcp-credentials-broker login https://idp.example.com --name work-idp   # any OIDC issuer (OAUTH2_CLIENT_ID)",
    "mcp-credentials-broker login okta --no-browser            # print the URL, paste the redirect URL back",
  ],
  meta: { name: "login", description: `Sign in to an OAuth provider (${PROVIDER_IDS.join(", ")}, or an https:// issuer) and store the token; it is refreshed automatically.` },
  args: {
    provider: { type: "positional", required: true, description: `${PROVIDER_IDS.join(", ")}, or an https:// issuer URL` },
    scopes: { type: "string", description: "Scopes, space- or comma-separated (default: the provider's)", valueHint: "scopes" },
    name: { type: "string", description: "Secret name to store the token under (default: <provider>-token)", valueHint: "name" },
    device: { type: "boolean", description: "Use the device flow (RFC 8628): enter a code on another device" },
    browser: { type: "boolean", default: true, description: "Open a browser (--no-browser: print the URL and paste the redirect URL back)" },
    issuer: { type: "string", description: "oauth2: the issuer to discover endpoints from (else OAUTH2_ISSUER)", valueHint: "url" },
    "authorization-endpoint": { type: "string", description: "oauth2: explicit authorization endpoint (with --token-endpoint)", valueHint: "url" },
    "token-endpoint": { type: "string", description: "oauth2: explicit token endpoint", valueHint: "url" },
    port: { type: "string", description: "Callback port (default: MCB_CALLBACK_PORT, else 9876)", valueHint: "port" },
    timeout: { type: "string", description: "Seconds to wait for the sign-in (default: MCB_LOGIN_TIMEOUT, else 300)", valueHint: "seconds" },
    ...jsonArg,
    ...storeArg,
  },
  async run({ args, io, out, note: say, withRuntime }) {
    const target = parseTarget(args.provider, args.issuer);
    const name = args.name ?? target.defaultName;
    if (args.device && args.browser === false) throw new BrokerError("INVALID_INPUT", "Use either --device or --no-browser, not both.");
    const mode: LoginMode = args.device ? "device" : args.browser === false ? "paste" : "auto";
    const port = optionalPort(args.port, "--port");
    const timeout = args.timeout === undefined ? undefined : Number(args.timeout);
    if (timeout !== undefined && !(timeout > 0 && timeout <= 3600)) throw new BrokerError("INVALID_INPUT", "--timeout must be 1 to 3600 seconds.");
    const spinner = startSpinner(io.stderr, io.stderrIsTTY);
    try {
      const result = await withRuntime(args.store, (rt) =>
        rt.broker.login(
          {
            provider: target.provider,
            secretName: name,
            scopes: parseScopes(args.scopes),
            overrides: { issuer: target.issuer, authorizationEndpoint: args["authorization-endpoint"], tokenEndpoint: args["token-endpoint"] },
            mode,
            ...(port !== undefined ? { port } : {}),
            ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
            // A terminal can paste a redirect URL whenever no browser or device flow is available.
            ...(mode === "paste" || (mode === "auto" && io.stdinIsTTY) ? { pasted: stdinLines(io.stdin) } : {}),
          },
          terminalUi(mode, spinner, say),
          { client: "cli", user: true },
        ),
      );
      spinner.stop();
      const r = result.record;
      if (args.json) {
        out(JSON.stringify({ name, provider: target.provider, tokenType: r.oauth?.tokenType, scope: r.oauth?.scope, expiresAt: r.expiresAt, hasRefreshToken: r.oauth?.refreshToken !== undefined, byOtherProcess: result.byOtherProcess }, null, 2));
      }
      const expires = r.expiresAt === undefined ? "does not expire" : `expires in ${Math.max(0, Math.round((r.expiresAt - Date.now()) / 60_000))} min`;
      const refresh = r.oauth?.refreshToken ? "; refreshed automatically" : "";
      say(`${result.byOtherProcess ? "Signed in by another broker process" : "Signed in"}. Token stored as '${terminalText(name)}' (${expires}${refresh}).`);
    } finally {
      spinner.stop();
    }
    // stdin may still be open for paste-back; nothing more to read.
    io.stdin.destroy?.();
  },
});
