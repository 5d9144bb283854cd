// `proxy` end to end (issue 6, acceptance 2, and background mode): the compiled binary in
// front of the remote MCP fixture; Chromium signs in through /oauth/login; an SDK Client over
// Streamable HTTP uses the proxy while the token expires under it.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { freePort } from "../support/ports.ts";
import { suiteCanRun } from "../support/requirements.ts";
import type { Idp } from "../fixtures/idp.ts";
import { useRemoteWorld } from "../support/remote.ts";
import { runCli, spawnBroker, tempHome } from "./harness.ts";

const canRun = suiteCanRun("proxy e2e with Chromium", ["chromium"], "apt-get install -y --no-install-recommends chromium");


const w = useRemoteWorld(canRun);

/** Reads a child's stderr until `re` matches. */
async function waitForStderr(stream: ReadableStream<Uint8Array>, re: RegExp): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before ${re}: ${text}`);
    text += decoder.decode(value);
    if (re.test(text)) {
      reader.releaseLock();
      return text;
    }
  }
}

function text(result: unknown): string {
  return (result as { content: { text: string }[] }).content[0]!.text;
}

describe.if(canRun)("proxy (compiled binary)", () => {
  it("login through /oauth/login; an SDK Client lists and calls tools; the token expires mid-session with exactly one refresh; progress arrives spaced as sent", async () => {
    const home = tempHome("mcb-proxy-");
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const proc = spawnBroker(["proxy", "--upstream", w.remote.url, "--port", String(port)], { home, stdin: "ignore" });
    const client = new Client({ name: "e2e-proxy", version: "1.0.0" });
    try {
      await waitForStderr(proc.stderr, /Not signed in yet/);
      const unauth = await fetch(`${base}/mcp`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{}" });
      expect(unauth.status).toBe(401);
      expect(((await unauth.json()) as { login_url: string }).login_url).toBe(`${base}/oauth/login`);

      const landed = await w.chromium.signIn(`${base}/oauth/login`, `${base}/oauth/callback`);
      expect(landed.text).toContain("Signed in");
      // `status` lists the remote login (server and expiry, no token).
      const status = JSON.parse((await runCli(["status", "--json"], { home })).stdout) as { remote: { upstream: string; expiresAt: number }[]; secrets: string[] };
      expect(status.remote).toEqual([{ upstream: w.remote.url, expiresAt: expect.any(Number) }]);
      expect(status.secrets).toEqual([]);

      const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`));
      await client.connect(transport);
      expect(transport.sessionId).toBe(w.remote.sessions.at(-1)!);
      expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(["countdown", "echo"]);
      expect(text(await client.callTool({ name: "echo", arguments: { text: "one" } }))).toBe("one");

      // Reactive refresh: the server stops accepting the current token (it "expired" early):
      // one 401, one refresh, one retry, and the call succeeds.
      w.idp.accessTokenTtl = 10;
      await Bun.sleep(1100);
      w.remote.notBefore = Math.floor(Date.now() / 1000);
      await Bun.sleep(1100);
      let refreshes = w.idp.counts.refresh_token;
      const unauthorized = w.remote.unauthorized;
      expect(text(await client.callTool({ name: "echo", arguments: { text: "after" } }))).toBe("after");
      expect(w.idp.counts.refresh_token - refreshes).toBe(1);
      expect(w.remote.unauthorized - unauthorized).toBe(1);

      // Proactive refresh: the new 10 s token enters its refresh window (the last quarter of
      // its life: a short token's skew is under 60 s, src/core/expiry.ts) after 7.5 s; three
      // concurrent calls share exactly one refresh and see no 401.
      await Bun.sleep(8000);
      refreshes = w.idp.counts.refresh_token;
      const r = await Promise.all([1, 2, 3].map((i) => client.callTool({ name: "echo", arguments: { text: `n${i}` } })));
      expect(r.map(text)).toEqual(["n1", "n2", "n3"]);
      expect(w.idp.counts.refresh_token - refreshes).toBe(1);
      expect(w.remote.unauthorized - unauthorized).toBe(1);
      w.idp.accessTokenTtl = 3600;

      // Streaming: progress notifications arrive as the server sends them (300 ms apart), not in one burst at the end.
      const arrivals: number[] = [];
      const started = Date.now();
      const done = await client.callTool({ name: "countdown", arguments: { steps: 4, interval_ms: 300 } }, undefined, { onprogress: () => void arrivals.push(Date.now()) });
      const finished = Date.now();
      expect(text(done)).toBe("counted 4");
      expect(arrivals).toHaveLength(4);
      // The first arrives long before the result; each next one a clear gap after the previous.
      expect(finished - arrivals[0]!).toBeGreaterThan(600);
      for (let i = 1; i < arrivals.length; i++) expect(arrivals[i]! - arrivals[i - 1]!).toBeGreaterThan(150);
      expect(arrivals[0]! - started).toBeLessThan(finished - started - 600);

      expect(await (await fetch(`${base}/oauth/logout`, { method: "POST" })).json()).toEqual({ loggedOut: true });
    } finally {
      w.idp.accessTokenTtl = 3600;
      w.remote.notBefore = 0;
      await client.close().catch(() => {});
      proc.kill("SIGTERM");
      await proc.exited;
    }
    // The proxy stored and deleted the token around the broker: both audited (intent, then
    // outcome), naming the server's origin, never a token.
    const audit = readFileSync(join(home, "audit.jsonl"), "utf8");
    const remote = audit.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.event).startsWith("remote-"));
    const origin = new URL(w.remote.url).origin;
    expect(remote.map((l) => [l.event, l.outcome, l.target])).toEqual([
      ["remote-login", "intent", origin],
      ["remote-login", "ok", origin],
      ["remote-logout", "intent", origin],
      ["remote-logout", "ok", origin],
    ]);
    for (const h of w.remote.authorizations) if (h) expect(audit).not.toContain(h.slice(7));
  }, 90_000);

  it("a half-given AUTHORIZATION_ENDPOINT is a clear startup error", async () => {
    const home = tempHome("mcb-proxy-");
    const r = await runCli(["proxy", "--upstream", w.remote.url, "--port", String(await freePort())], { home, env: { AUTHORIZATION_ENDPOINT: `${w.idp.issuer}/auth` } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("AUTHORIZATION_ENDPOINT is set without TOKEN_ENDPOINT");
  });

  it("background mode: start, status (no token values), logs, stop; a stale pid file is handled", async () => {
    const home = tempHome("mcb-proxy-");
    const port = String(await freePort());
    const started = await runCli(["proxy", "start", "--upstream", w.remote.url, "--port", port], { home });
    expect(started.code).toBe(0);
    expect(started.stderr).toContain("Proxy started");
    try {
      const again = await runCli(["proxy", "start", "--upstream", w.remote.url, "--port", port], { home });
      expect(again.code).not.toBe(0);
      expect(again.stderr).toContain("already running");
      const st = await runCli(["proxy", "status", "--port", port, "--json"], { home });
      const data = JSON.parse(st.stdout);
      expect(data).toMatchObject({ running: true, upstream: w.remote.url, oauth: { loggedIn: false, issuer: w.idp.issuer } });
      const logs = await runCli(["proxy", "logs", "--port", port], { home });
      expect(logs.stdout).toContain("Not signed in yet");
    } finally {
      const stopped = await runCli(["proxy", "stop", "--port", port], { home });
      expect(stopped.stderr).toContain("Proxy stopped");
    }
    expect((await runCli(["proxy", "status", "--port", port, "--json"], { home })).stdout).toContain('"running": false');
    // A pid file left by a crashed proxy (its pid is gone) counts as stopped and is removed.
    const pidFile = join(home, `proxy-${port}.pid`);
    writeFileSync(pidFile, JSON.stringify({ pid: 2 ** 22 - 3, port: Number(port), upstream: w.remote.url, startedAt: 0 }));
    expect((await runCli(["proxy", "status", "--port", port], { home })).stdout).toContain("No proxy is running");
    expect(existsSync(pidFile)).toBe(false);
    expect(readFileSync(join(home, `proxy-${port}.log`), "utf8")).not.toContain("Bearer");
  }, 60_000);
});
