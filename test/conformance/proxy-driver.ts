// Conformance driver for `proxy` (the suite runs `bun proxy-driver.ts <server-url>`): starts
// `<binary> proxy --upstream <url> --port <free> --store memory` with the scenario's options in
// the foreground, waits for /health, then an SDK Client over Streamable HTTP uses
// http://127.0.0.1:<port>/mcp. When the proxy answers 401 login_required or 403
// insufficient_scope with a login_url, the driver "opens" it like a user would (lib.ts
// followRedirects: /oauth/login → authorization server → the proxy's callback → its page) and
// retries the request, at most 3 times per request. Exit 0 only when everything worked.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY } from "../e2e/harness.ts";
import { freePort } from "../support/ports.ts";
import { CLIENT_CAPABILITIES, acceptElicitations, brokerEnv, brokerOptions, deadline, exercise, followRedirects, readContext, say, short } from "./lib.ts";

const WHO = "proxy-driver";
/** Sign-ins one request may cause before its failure is returned to the client. */
const MAX_LOGINS_PER_REQUEST = 3;
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? "";
const upstream = process.argv.at(-1) ?? "";
const timeoutMs = Number(process.env.CONFORMANCE_DRIVER_TIMEOUT_MS ?? 25_000);

const home = mkdtempSync(join(tmpdir(), "mcb-conf-proxy-"));
const opts = brokerOptions(scenario, readContext());
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const args = ["proxy", "--upstream", upstream, "--port", String(port), "--store", "memory", ...opts.args];
say(WHO, `scenario ${scenario}: ${BINARY} ${args.join(" ")}${Object.keys(opts.env).length ? ` (env: ${Object.keys(opts.env).join(", ")})` : ""}`);

if (!existsSync(BINARY)) {
  say(WHO, `${BINARY} is missing: run \`npm run build\` or set MCB_TEST_BINARY`);
  process.exit(2);
}
const proxy = spawn(BINARY, args, { env: brokerEnv(home, opts.env), stdio: ["ignore", "pipe", "pipe"] });
let proxyExit: string | null = null;
const proxyGone = new Promise<void>((r) =>
  proxy.once("exit", (code, signal) => {
    proxyExit = signal ?? String(code);
    r();
  }),
);
for (const stream of [proxy.stdout, proxy.stderr]) {
  stream.on("data", (c: Buffer) => {
    for (const line of c.toString("utf8").split("\n")) if (line) process.stderr.write(`[proxy] ${line}\n`);
  });
}

let logins = 0;
/** fetch for the SDK transport: signs in through the proxy's login_url when it asks, then retries. */
async function signingInFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(input, init);
    if ((res.status !== 401 && res.status !== 403) || attempt >= MAX_LOGINS_PER_REQUEST) return res;
    const body = (await res.clone().json().catch(() => null)) as { error?: string; login_url?: string } | null;
    const wanted = res.status === 401 ? "login_required" : "insufficient_scope";
    if (body?.error !== wanted || typeof body.login_url !== "string") return res;
    await res.body?.cancel();
    logins++;
    say(WHO, `${init?.method ?? "GET"} /mcp: ${res.status} ${body.error}; sign-in ${logins} through ${short(body.login_url)}`);
    const landed = await followRedirects(body.login_url);
    say(WHO, `sign-in ${logins}: ${landed.hops.map(short).join(" → ")}: ${landed.status}`);
    if (landed.status !== 200) throw new Error(`sign-in through ${short(body.login_url)} ended on ${landed.status} at ${short(landed.url)}: ${landed.body.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim().slice(0, 300)}`);
  }
}

async function waitForHealth(): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    if (proxyExit !== null) throw new Error(`the proxy exited (${proxyExit}) before answering /health`);
    const ok = await fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > until) throw new Error(`the proxy did not answer ${base}/health within 10 s`);
    await Bun.sleep(50);
  }
}

const client = new Client({ name: "mcb-conformance-proxy", version: "1.0.0" }, { capabilities: CLIENT_CAPABILITIES });
acceptElicitations(client, WHO);

let finished = false;
async function finish(code: number): Promise<never> {
  if (!finished) {
    finished = true;
    await Promise.race([client.close().catch(() => {}), Bun.sleep(2000)]);
    if (proxyExit === null) {
      proxy.kill("SIGTERM");
      await Promise.race([proxyGone, Bun.sleep(3000)]);
      if (proxyExit === null) proxy.kill("SIGKILL");
    }
    opts.cleanup();
    rmSync(home, { recursive: true, force: true });
  }
  process.exit(code);
}
// The suite kills the driver when its own timeout passes: take the proxy down with it.
for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => void finish(1));

const limit = deadline(timeoutMs, "the proxy driver");
try {
  await Promise.race([
    (async () => {
      await waitForHealth();
      const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { fetch: signingInFetch });
      await client.connect(transport);
      say(WHO, `initialized: ${JSON.stringify(client.getServerVersion())}`);
      await exercise(client, WHO);
    })(),
    limit.promise,
  ]);
  say(WHO, `done (${logins} sign-in${logins === 1 ? "" : "s"})`);
  limit.clear();
  await finish(0);
} catch (e) {
  limit.clear();
  say(WHO, `FAILED: ${e instanceof Error ? e.message : String(e)}`);
  await finish(1);
}
