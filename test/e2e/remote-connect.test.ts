// `connect <url>` end to end (issue 6, acceptance 3 and 6): the compiled binary bridges an SDK
// Client over stdio to the remote MCP fixture (Streamable HTTP behind oidc-provider's JWT
// bearer tokens); Chromium completes the one login, through a BROWSER hook.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ProgressNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { browserHooksWork, createBrowserHook, type BrowserHook } from "../support/browser-hook.ts";
import { freePort } from "../support/ports.ts";
import { suiteCanRun } from "../support/requirements.ts";
import type { Idp } from "../fixtures/idp.ts";
import { useRemoteWorld } from "../support/remote.ts";
import { startForwardProxy } from "../fixtures/forward-proxy.ts";
import { startRemoteMcp } from "../fixtures/remote-mcp.ts";
import { connectBroker, tempHome, type Connected } from "./harness.ts";

const canRun = browserHooksWork && suiteCanRun("remote MCP e2e with Chromium", ["chromium"], "apt-get install -y --no-install-recommends chromium");


const w = useRemoteWorld(canRun);

function env(hook: BrowserHook, port: number): Record<string, string> {
  return { BROWSER: hook.path, DISPLAY: "", WAYLAND_DISPLAY: "", MCB_CALLBACK_PORT: String(port), MCB_LOGIN_TIMEOUT: "60" };
}

function text(result: unknown): string {
  return (result as { content: { text: string }[] }).content[0]!.text;
}

describe.if(canRun)("connect", () => {
  it("an SDK Client over stdio lists and calls the remote tools (progress included); a second connect reuses the login without a browser", async () => {
    const home = tempHome("mcb-connect-");
    const hook = createBrowserHook();
    const port = await freePort();
    const first = connectBroker({ home, env: env(hook, port), args: ["connect", w.remote.url] });
    const url = await hook.waitForCall(0, 20_000);
    expect(new URL(url).searchParams.get("resource")).toBe(w.remote.url);
    await w.chromium.signIn(url, `http://127.0.0.1:${port}/oauth/callback`);
    const a = await first;
    let b: Connected | undefined;
    try {
      const tools = await a.client.listTools();
      expect(tools.tools.map((t) => t.name).sort()).toEqual(["countdown", "echo"]);
      expect(text(await a.client.callTool({ name: "echo", arguments: { text: "hello" } }))).toBe("hello");
      const progress: number[] = [];
      const r = await a.client.callTool({ name: "countdown", arguments: { steps: 3, interval_ms: 50 } }, undefined, { onprogress: (p) => void progress.push(p.progress) });
      expect(text(r)).toBe("counted 3");
      expect(progress).toEqual([1, 2, 3]);

      b = await connectBroker({ home, env: env(hook, port), args: ["connect", w.remote.url] });
      expect(text(await b.client.callTool({ name: "echo", arguments: { text: "again" } }))).toBe("again");
      expect(hook.calls()).toHaveLength(1);
      // The bridge logs to stderr only, and never a token.
      const auths = w.remote.authorizations.filter((h): h is string => h !== null).map((h) => h.slice(7));
      for (const t of auths) expect(a.stderr() + b.stderr()).not.toContain(t);
      // The one sign-in stored a token around the broker: audited as a remote login, with no token in the line.
      const audit = readFileSync(join(home, "audit.jsonl"), "utf8");
      const logins = audit.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === "remote-login");
      expect(logins.map((l) => [l.outcome, l.target])).toEqual([
        ["intent", new URL(w.remote.url).origin],
        ["ok", new URL(w.remote.url).origin],
      ]);
      for (const t of auths) expect(audit).not.toContain(t);
    } finally {
      await a.close();
      await b?.close();
    }
  }, 90_000);

  it("three connects started at once open one browser flow, and after expiry cause exactly one refresh", async () => {
    const home = tempHome("mcb-connect-");
    const hook = createBrowserHook();
    const port = await freePort();
    // 10 s tokens are refreshed from 7.5 s on: 60 s before expiry (docs/security.md §Refresh skew), but never more
    // than a quarter of a token's life (src/core/expiry.ts).
    w.idp.accessTokenTtl = 10;
    const clients: Connected[] = [];
    const registrations = w.idp.counts.registration;
    try {
      const starting = [0, 1, 2].map(() => connectBroker({ home, env: env(hook, port), args: ["connect", w.remote.url] }));
      const url = await hook.waitForCall(0, 20_000);
      await w.chromium.signIn(url, `http://127.0.0.1:${port}/oauth/callback`);
      clients.push(...(await Promise.all(starting)));
      expect(hook.calls()).toHaveLength(1);
      expect(w.idp.counts.registration - registrations).toBe(1);
      const results = await Promise.all(clients.map((c, i) => c.client.callTool({ name: "echo", arguments: { text: `c${i}` } })));
      expect(results.map(text)).toEqual(["c0", "c1", "c2"]);

      await Bun.sleep(8000);
      const before = w.idp.counts.refresh_token;
      const after = await Promise.all(clients.map((c, i) => c.client.callTool({ name: "echo", arguments: { text: `d${i}` } })));
      expect(after.map(text)).toEqual(["d0", "d1", "d2"]);
      expect(w.idp.counts.refresh_token - before).toBe(1);
      expect(hook.calls()).toHaveLength(1);
    } finally {
      w.idp.accessTokenTtl = 3600;
      await Promise.all(clients.map((c) => c.close()));
    }
  }, 90_000);

  it("sends every outbound request through HTTP_PROXY, and none of them to it for hosts in NO_PROXY", async () => {
    const fwd = startForwardProxy();
    const viaProxy = tempHome("mcb-connect-");
    const hook = createBrowserHook();
    const port = await freePort();
    const remote = new URL(w.remote.url);
    const issuer = new URL(w.idp.issuer);
    try {
      const starting = connectBroker({ home: viaProxy, env: { ...env(hook, port), HTTP_PROXY: fwd.url, http_proxy: fwd.url, NO_PROXY: "", no_proxy: "" }, args: ["connect", w.remote.url] });
      await w.chromium.signIn(await hook.waitForCall(0, 20_000), `http://127.0.0.1:${port}/oauth/callback`);
      const c = await starting;
      try {
        expect(text(await c.client.callTool({ name: "echo", arguments: { text: "proxied" } }))).toBe("proxied");
      } finally {
        await c.close();
      }
      // Discovery, registration and the token request went to the authorization server through it,
      // and the MCP traffic to the server; the browser's own sign-in did not (it is not the broker's).
      const hosts = new Set(fwd.seen.map((l) => new URL(l.split(" ")[1]!).host));
      expect(hosts).toEqual(new Set([remote.host, issuer.host]));
      expect(fwd.seen).toContain(`POST ${w.remote.url}`);
      expect(fwd.seen.some((l) => l.startsWith("POST ") && l.includes(issuer.host) && l.includes("token"))).toBe(true);

      // NO_PROXY naming the hosts: the same session (stored login) without the proxy.
      const before = fwd.seen.length;
      const direct = await connectBroker({ home: viaProxy, env: { ...env(hook, port), HTTP_PROXY: fwd.url, http_proxy: fwd.url, NO_PROXY: "127.0.0.1", no_proxy: "127.0.0.1" }, args: ["connect", w.remote.url] });
      try {
        expect(text(await direct.client.callTool({ name: "echo", arguments: { text: "direct" } }))).toBe("direct");
      } finally {
        await direct.close();
      }
      expect(fwd.seen.slice(before)).toEqual([]);
    } finally {
      await fwd.stop();
    }
  }, 90_000);

  it("a server that goes away mid-session: the call fails with an error naming it and the code, and the bridge keeps serving", async () => {
    const remote = await startRemoteMcp({ issuer: w.idp.issuer });
    const home = tempHome("mcb-connect-down-");
    const hook = createBrowserHook();
    const port = await freePort();
    let stopped = false;
    try {
      const starting = connectBroker({ home, env: env(hook, port), args: ["connect", remote.url] });
      await w.chromium.signIn(await hook.waitForCall(0, 20_000), `http://127.0.0.1:${port}/oauth/callback`);
      const c = await starting;
      try {
        expect(text(await c.client.callTool({ name: "echo", arguments: { text: "up" } }))).toBe("up");
        await remote.stop();
        stopped = true;
        const err = await c.client.callTool({ name: "echo", arguments: { text: "down" } }).then(
          () => null,
          (e: unknown) => e as Error,
        );
        const origin = new URL(remote.url).origin.replace(/\./g, "\\.");
        expect(err?.message).toMatch(new RegExp(`Could not reach ${origin} \\((ECONNREFUSED|ConnectionRefused)\\)`));
        expect(c.stderr()).toMatch(new RegExp(`connect: Could not reach ${origin}`));
        expect(c.stderr()).not.toContain("Internal error");
        // Still serving: the next call gets its own answer instead of a hang.
        await expect(c.client.listTools()).rejects.toThrow(/Could not reach/);
      } finally {
        await c.close();
      }
    } finally {
      if (!stopped) await remote.stop();
    }
  }, 60_000);

  it("falls back to the older HTTP+SSE transport when the server only speaks that", async () => {
    const legacy = await startRemoteMcp({ issuer: w.idp.issuer, legacySse: true });
    const home = tempHome("mcb-connect-");
    const hook = createBrowserHook();
    const port = await freePort();
    try {
      const starting = connectBroker({ home, env: env(hook, port), args: ["connect", legacy.url] });
      await w.chromium.signIn(await hook.waitForCall(0, 20_000), `http://127.0.0.1:${port}/oauth/callback`);
      const c = await starting;
      try {
        expect((await c.client.listTools()).tools.map((t) => t.name).sort()).toEqual(["countdown", "echo"]);
        expect(text(await c.client.callTool({ name: "echo", arguments: { text: "legacy" } }))).toBe("legacy");
      } finally {
        await c.close();
      }
    } finally {
      await legacy.stop();
    }
  }, 60_000);
});
