// OAuth login end to end (acceptance 2, 3, 9): the compiled binary, the real oidc-provider
// fixture on 127.0.0.1, and headless Debian Chromium completing the provider's pages — opened
// through a BROWSER hook that records the URL the broker asked to open.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { launchChromium, type Chromium } from "../support/chromium.ts";
import { browserHooksWork, createBrowserHook, type BrowserHook } from "../support/browser-hook.ts";
import { freePort } from "../support/ports.ts";
import { suiteCanRun } from "../support/requirements.ts";
import { startIdp, type Idp } from "../fixtures/idp.ts";
import { body, connectBroker, runCli, spawnBroker, tempHome } from "./harness.ts";

const canRun = browserHooksWork && suiteCanRun("OAuth e2e with Chromium", ["chromium"], "apt-get install -y --no-install-recommends chromium");

let idp: Idp;
let chromium: Chromium;

beforeAll(async () => {
  if (!canRun) return;
  idp = await startIdp({ deviceInterval: 1 });
  chromium = await launchChromium();
}, 30_000);
afterAll(async () => {
  await chromium?.close();
  await idp?.stop();
});

function oauthEnv(hook: BrowserHook | null, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OAUTH2_CLIENT_ID: idp.clientId,
    OAUTH2_CLIENT_SECRET: idp.clientSecret,
    OAUTH2_ISSUER: idp.issuer,
    BROWSER: hook?.path ?? "",
    DISPLAY: "",
    WAYLAND_DISPLAY: "",
    MCB_CALLBACK_PORT: String(port),
    MCB_LOGIN_TIMEOUT: "60",
    ...extra,
  };
}

/** get_secret → resolve_secret through a fresh MCP session: the value an agent would get. */
async function resolveThroughMcp(home: string, env: Record<string, string>, name: string): Promise<string> {
  const b = await connectBroker({ home, env });
  try {
    const ref = body(await b.client.callTool({ name: "get_secret", arguments: { name, purpose: "e2e: call userinfo" } }));
    expect(ref.success).toBe(true);
    const res = body(await b.client.callTool({ name: "resolve_secret", arguments: { reference_id: ref.reference.id } }));
    expect(res.success).toBe(true);
    return res.value as string;
  } finally {
    await b.close();
  }
}

/** Collects a child's stderr as it arrives; `waitFor` resolves with the first match of `re`. */
function collect(stream: ReadableStream<Uint8Array>) {
  const sink = { text: "" };
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  const done = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      sink.text += decoder.decode(chunk);
      for (const w of [...waiters]) {
        const m = w.re.exec(sink.text);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    }
  })();
  return {
    text: () => sink.text,
    done,
    waitFor: (re: RegExp) =>
      new Promise<RegExpExecArray>((resolve) => {
        const m = re.exec(sink.text);
        if (m) resolve(m);
        else waiters.push({ re, resolve });
      }),
  };
}

describe.if(canRun)("login with a real browser", () => {
  it("`login oauth2 --issuer` opens Chromium through BROWSER, stores the token, and get_secret → resolve_secret gives a token userinfo accepts", async () => {
    const home = tempHome("mcb-oauth-");
    const hook = createBrowserHook();
    const port = await freePort();
    const env = oauthEnv(hook, port, { OAUTH2_ISSUER: "" });
    const cli = runCli(["login", "oauth2", "--issuer", idp.issuer, "--name", "idp-token", "--scopes", "openid profile"], { home, env });
    const url = await hook.waitForCall(0);
    expect(hook.calls()[0]).toHaveLength(1);
    const landed = await chromium.signIn(url, `http://127.0.0.1:${port}/oauth/callback`);
    expect(landed.text).toContain("Signed in");
    const r = await cli;
    expect(r.stderr).toContain("Token stored as 'idp-token'");
    expect(r.code).toBe(0);
    const token = await resolveThroughMcp(home, env, "idp-token");
    expect(await idp.userinfoStatus(token)).toBe(200);
    // The refresh token is kept beside it, never listed.
    const list = await runCli(["secret", "list", "--json"], { home, env });
    const entry = JSON.parse(list.stdout).find((e: { name: string }) => e.name === "idp-token");
    expect(entry).toMatchObject({ provider: "oauth2", expiresAt: expect.any(Number) });
    expect(JSON.stringify(entry)).not.toContain("refresh");
  }, 60_000);

  it("start_oauth_flow opens Chromium, reports the URL in log and progress notifications, and the stored token works", async () => {
    const home = tempHome("mcb-oauth-");
    const hook = createBrowserHook();
    const port = await freePort();
    const env = oauthEnv(hook, port);
    const b = await connectBroker({ home, env });
    const notes: string[] = [];
    b.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      notes.push(String(n.params.data));
    });
    try {
      const progress: string[] = [];
      const call = b.client.callTool({ name: "start_oauth_flow", arguments: { provider: "oauth2", scopes: ["openid"], secret_name: "tool-token" } }, undefined, { timeout: 60_000, onprogress: (p) => void progress.push(String(p.message)) });
      const url = await hook.waitForCall(0);
      await chromium.signIn(url, `http://127.0.0.1:${port}/oauth/callback`);
      const res = body(await call);
      expect(res).toMatchObject({ success: true, tokenType: expect.stringMatching(/^bearer$/i), hasRefreshToken: true, expiresIn: expect.any(Number) });
      expect(res.scope).toContain("openid");
      expect(notes.some((n) => n.includes(url))).toBe(true);
      expect(progress.some((m) => m.includes(url))).toBe(true);
      const ref = body(await b.client.callTool({ name: "get_secret", arguments: { name: "tool-token", purpose: "e2e" } }));
      const value = body(await b.client.callTool({ name: "resolve_secret", arguments: { reference_id: ref.reference.id } })).value;
      expect(await idp.userinfoStatus(value)).toBe(200);
    } finally {
      await b.close();
    }
  }, 60_000);

  it("with URL-mode elicitation the client is asked to open the URL (and BROWSER is not used)", async () => {
    const home = tempHome("mcb-oauth-");
    const hook = createBrowserHook();
    const port = await freePort();
    const b = await connectBroker({ home, env: oauthEnv(hook, port), clientOptions: { capabilities: { elicitation: { url: {} } } } });
    const { ElicitRequestSchema } = await import("@modelcontextprotocol/sdk/types.js");
    const elicited: string[] = [];
    b.client.setRequestHandler(ElicitRequestSchema, async (req) => {
      const url = (req.params as { url: string }).url;
      elicited.push(url);
      void chromium.signIn(url, `http://127.0.0.1:${port}/oauth/callback`);
      return { action: "accept" };
    });
    try {
      const res = body(await b.client.callTool({ name: "start_oauth_flow", arguments: { provider: "oauth2", scopes: [], secret_name: "elicited" } }, undefined, { timeout: 60_000 }));
      expect(res.success).toBe(true);
      expect(elicited).toHaveLength(1);
      expect(new URL(elicited[0]!).origin).toBe(idp.issuer);
      expect(hook.calls()).toHaveLength(0);
    } finally {
      await b.close();
    }
  }, 60_000);

  it("device flow: `login --device` prints a code that Chromium enters on the provider's page; polling honours interval and slow_down", async () => {
    const home = tempHome("mcb-oauth-");
    const port = await freePort();
    const env = oauthEnv(null, port);
    const polls0 = idp.devicePolls.length;
    const tooFast0 = idp.tooFastPolls;
    idp.slowDownNext = true;
    const p = spawnBroker(["login", "oauth2", "--device", "--name", "device-token"], { home, env });
    p.stdin?.end();
    const err = collect(p.stderr);
    const [, uri, code] = await err.waitFor(/open (http\S+) on any device and enter the code:\s+(\S+)/);
    expect(new URL(uri!).origin).toBe(idp.issuer);
    const page = await chromium.enterDeviceCode(uri!, code!);
    expect(page).toContain("Sign-in Success");
    const exit = await p.exited;
    await err.done;
    expect(err.text()).toContain("Token stored as 'device-token'");
    expect(exit).toBe(0);
    const polls = idp.devicePolls.slice(polls0);
    // The first poll got slow_down; the next came at least interval + 5 s later (RFC 8628 §3.5).
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect(polls[1]! - polls[0]!).toBeGreaterThanOrEqual(6_000);
    expect(idp.tooFastPolls).toBe(tooFast0);
    const token = await resolveThroughMcp(home, env, "device-token");
    expect(await idp.userinfoStatus(token)).toBe(200);
  }, 60_000);

  it("start_oauth_flow falls back to the device flow when no browser can be opened; the code reaches the client", async () => {
    const home = tempHome("mcb-oauth-");
    const port = await freePort();
    const b = await connectBroker({ home, env: oauthEnv(null, port) });
    const notes: string[] = [];
    const entered = Promise.withResolvers<void>();
    b.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      const text = String(n.params.data);
      notes.push(text);
      const m = /open (http\S+) and enter the code (\S+)/.exec(text);
      if (m) chromium.enterDeviceCode(m[1]!, m[2]!).then(() => entered.resolve(), entered.reject);
    });
    try {
      const res = body(await b.client.callTool({ name: "start_oauth_flow", arguments: { provider: "oauth2", scopes: ["openid"], secret_name: "headless" } }, undefined, { timeout: 60_000 }));
      await entered.promise;
      expect(res).toMatchObject({ success: true, hasRefreshToken: true });
      expect(notes.some((n) => n.includes("enter the code"))).toBe(true);
    } finally {
      await b.close();
    }
  }, 60_000);

  it("three broker processes logging in to the same provider at once open one browser flow and all end up with the token (acceptance 9)", async () => {
    const home = tempHome("mcb-oauth-");
    const hook = createBrowserHook();
    const port = await freePort();
    const env = oauthEnv(hook, port);
    const runs = [0, 1, 2].map(() => runCli(["login", "oauth2", "--name", "shared"], { home, env }));
    const url = await hook.waitForCall(0);
    await chromium.signIn(url, `http://127.0.0.1:${port}/oauth/callback`);
    const results = await Promise.all(runs);
    for (const r of results) expect(r.code).toBe(0);
    expect(hook.calls()).toHaveLength(1);
    expect(results.filter((r) => r.stderr.includes("Signed in by another broker process"))).toHaveLength(2);
    const gets = await Promise.all([0, 1, 2].map(() => runCli(["secret", "get", "shared"], { home, env })));
    expect(new Set(gets.map((g) => g.stdout)).size).toBe(1);
    expect(await idp.userinfoStatus(gets[0]!.stdout)).toBe(200);
  }, 60_000);

  it("two flows back to back through the same kept-alive browser on one port both complete", async () => {
    const home = tempHome("mcb-oauth-");
    const hook = createBrowserHook();
    const port = await freePort();
    const env = oauthEnv(hook, port);
    for (const [i, name] of ["first", "second"].entries()) {
      const cli = runCli(["login", "oauth2", "--name", name], { home, env });
      const url = await hook.waitForCall(i);
      expect(new URL(url).searchParams.get("redirect_uri")).toBe(`http://127.0.0.1:${port}/oauth/callback`);
      const landed = await chromium.signIn(url, `http://127.0.0.1:${port}/oauth/callback`);
      expect(landed.text).toContain("Signed in");
      expect((await cli).code).toBe(0);
    }
  }, 60_000);
});
