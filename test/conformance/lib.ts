// What the conformance drivers share: the loopback-only redirect follower that stands in for a
// browser, the MCP_CONFORMANCE_CONTEXT → broker flags/env mapping, and the client work each
// scenario needs (initialize, tools/list, call the tools). Runs under Bun.
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The Client ID Metadata Document URL the suite's mock authorization servers expect (everything-client.ts). */
export const CIMD_URL = "https://conformance-test.local/client-metadata.json";

/** What every driver asks the SDK Client to declare: form elicitation with defaults applied. */
export const CLIENT_CAPABILITIES = { elicitation: { form: { applyDefaults: true } } };

/** Prefixes each line a driver writes to stderr (the suite saves it as stderr.txt). */
export function say(who: string, msg: string): void {
  process.stderr.write(`[${who}] ${msg}\n`);
}

/** Only http(s) on 127.0.0.1, localhost or [::1]: the drivers never fetch anything else. */
export function assertLoopback(raw: string): URL {
  const u = new URL(raw);
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`refusing a non-http(s) URL: ${u.protocol}//…`);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) throw new Error(`refusing a non-loopback host: ${u.hostname}`);
  return u;
}

export interface Landed {
  status: number;
  url: string;
  hops: string[];
  body: string;
}

/**
 * Stands in for the user's browser: GETs `url` and follows redirects by hand (up to `maxHops`),
 * loopback only, until a page that is not a redirect. The suite's mock authorization servers
 * approve at once, so the chain ends on the broker's callback page.
 */
export async function followRedirects(url: string, maxHops = 10): Promise<Landed> {
  const hops: string[] = [];
  let current = assertLoopback(url).href;
  for (let i = 0; i <= maxHops; i++) {
    hops.push(current);
    const res = await fetch(current, { redirect: "manual", signal: AbortSignal.timeout(15_000) });
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      current = assertLoopback(new URL(location, current).href).href;
      continue;
    }
    return { status: res.status, url: current, hops, body: await res.text() };
  }
  throw new Error(`more than ${maxHops} redirects: ${hops.join(" → ")}`);
}

/** A URL for logs: origin and path only (query strings carry state and codes). */
export function short(u: string): string {
  try {
    const x = new URL(u);
    return `${x.origin}${x.pathname}`;
  } catch {
    return "<bad url>";
  }
}

export type Context = Record<string, string | undefined> & { name?: string };

/** MCP_CONFORMANCE_CONTEXT, or {} when the scenario sends none. */
export function readContext(): Context {
  const raw = process.env.MCP_CONFORMANCE_CONTEXT;
  return raw ? (JSON.parse(raw) as Context) : {};
}

export interface BrokerOptions {
  /** Flags for `connect <url>` or `proxy --upstream <url>` (no secret ever). */
  args: string[];
  /** Variables for the broker's environment (secrets go here). */
  env: Record<string, string>;
  /** Removes the temp files (the private key). */
  cleanup(): void;
}

/**
 * The broker's user-facing options for a scenario's context (docs/conformance.md §The drivers): the CIMD
 * URL always; a pre-registered client id as a flag, its secret in CLIENT_SECRET; client
 * credentials with a secret or a private key file (0600); cross-app access with the IdP's
 * token endpoint and client id as flags and the ID token in IDP_ID_TOKEN.
 */
export function brokerOptions(scenario: string, ctx: Context): BrokerOptions {
  const args = ["--client-metadata-url", CIMD_URL];
  const env: Record<string, string> = {};
  const dirs: string[] = [];
  if (ctx.client_id) args.push("--client-id", ctx.client_id);
  if (ctx.client_secret) env.CLIENT_SECRET = ctx.client_secret;
  if (scenario === "auth/client-credentials-basic") args.push("--client-credentials");
  if (scenario === "auth/client-credentials-jwt") {
    if (!ctx.private_key_pem) throw new Error("the jwt scenario's context has no private_key_pem");
    const dir = mkdtempSync(join(tmpdir(), "mcb-conf-key-"));
    dirs.push(dir);
    const file = join(dir, "client-key.pem");
    writeFileSync(file, ctx.private_key_pem, { mode: 0o600 });
    chmodSync(file, 0o600);
    args.push("--client-credentials", "--private-key", file, "--signing-alg", ctx.signing_algorithm ?? "ES256");
  }
  if (scenario === "auth/cross-app-access-complete-flow") {
    args.push("--cross-app");
    if (ctx.idp_token_endpoint) args.push("--idp-token-endpoint", ctx.idp_token_endpoint);
    if (ctx.idp_client_id) args.push("--idp-client-id", ctx.idp_client_id);
    if (ctx.idp_id_token) env.IDP_ID_TOKEN = ctx.idp_id_token;
  }
  return {
    args,
    env,
    cleanup() {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

/**
 * The environment for the broker: this process's minus the suite's variables (the context
 * holds secrets the broker must get only as documented), MCB_* and anything that would open
 * a real browser; plus `extra`.
 */
export function brokerEnv(home: string, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith("MCB_") || k.startsWith("MCP_CONFORMANCE_") || k === "JWT_SECRET" || k === "DBUS_SESSION_BUS_ADDRESS") continue;
    if (["CLIENT_ID", "CLIENT_SECRET", "CLIENT_SECRET_FILE", "SCOPES", "UPSTREAM_MCP_URL", "PORT", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, DISPLAY: "", WAYLAND_DISPLAY: "", MCB_HOME: home, MCB_LOGIN_TIMEOUT: "20", ...extra };
}

/** Arguments for a tool from its input schema: the scenario's known values, else numbers 1, strings "x", booleans true. */
export function argumentsFor(tool: { name: string; inputSchema?: { properties?: Record<string, { type?: string | string[] }>; required?: string[] } }): Record<string, unknown> {
  if (tool.name === "add_numbers") return { a: 2, b: 3 };
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(tool.inputSchema?.properties ?? {})) {
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    if (type === "number" || type === "integer") out[name] = 1;
    else if (type === "string") out[name] = "x";
    else if (type === "boolean") out[name] = true;
    else if (type === "array") out[name] = [];
    else if (type === "object") out[name] = {};
  }
  return out;
}

/** Answers every elicitation with accept and empty content (the SDK fills in the defaults). */
export function acceptElicitations(client: Client, who: string): void {
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    say(who, `elicitation: ${JSON.stringify(req.params.message)} → accept {}`);
    return { action: "accept", content: {} };
  });
}

/** tools/list, then every listed tool once; a thrown error or an isError result fails. */
export async function exercise(client: Client, who: string): Promise<void> {
  const { tools } = await client.listTools();
  say(who, `tools/list: ${tools.map((t) => t.name).join(", ") || "(none)"}`);
  for (const tool of tools) {
    const args = argumentsFor(tool as Parameters<typeof argumentsFor>[0]);
    const result = await client.callTool({ name: tool.name, arguments: args }, undefined, { timeout: 20_000 });
    const text = JSON.stringify(result.content ?? result).slice(0, 300);
    if (result.isError) throw new Error(`tools/call ${tool.name} returned isError: ${text}`);
    say(who, `tools/call ${tool.name} ${JSON.stringify(args)} → ${text}`);
  }
}

/** Rejects after `ms` with a message naming `what` (the suite's own timeout would leave no reason). */
export function deadline(ms: number, what: string): { promise: Promise<never>; clear(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return { promise, clear: () => clearTimeout(timer) };
}
