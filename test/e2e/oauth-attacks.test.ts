// Acceptance 6 and 7 with the compiled binary, plus headless paste-back: hostile
// authorization endpoints (file:, javascript:, shell metacharacters) never reach a shell or
// a second process; a busy callback port moves to an ephemeral one; unconfigured providers
// name their variables; `login --no-browser` accepts a pasted redirect URL, state-checked.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startIdp, type Idp } from "../fixtures/idp.ts";
import { browserHooksWork, createBrowserHook } from "../support/browser-hook.ts";
import { formBrowser } from "../support/form-browser.ts";
import { freePort } from "../support/ports.ts";
import { body, connectBroker, runCli, spawnBroker, tempHome, type Connected } from "./harness.ts";

let idp: Idp;
beforeAll(async () => {
  idp = await startIdp();
});
afterAll(async () => {
  await idp?.stop();
});

async function withBroker<T>(env: Record<string, string>, fn: (b: Connected, home: string) => Promise<T>): Promise<T> {
  const home = tempHome("mcb-attack-");
  const b = await connectBroker({ home, env });
  try {
    return await fn(b, home);
  } finally {
    await b.close();
  }
}

describe.if(browserHooksWork)("hostile authorization endpoints (CVE-2025-6514 class)", () => {
  for (const bad of ["file:///etc/passwd", "javascript:alert(document.cookie)", "JAVASCRIPT:alert(1)", "http://evil.example/authorize", "https://x.example/a\nb"]) {
    it(`refuses ${JSON.stringify(bad)}: nothing opened, nothing stored`, async () => {
      const hook = createBrowserHook();
      await withBroker({ OAUTH2_CLIENT_ID: "c", BROWSER: hook.path, MCB_CALLBACK_PORT: String(await freePort()) }, async (b) => {
        const r = await b.client.callTool({ name: "start_oauth_flow", arguments: { provider: "oauth2", scopes: [], secret_name: "x", authorization_endpoint: bad, token_endpoint: "https://127.0.0.1:9/token" } });
        expect(r.isError).toBe(true);
        expect(body(r).error).toContain("Refusing the authorization endpoint");
        expect(body(r).error).not.toContain("/etc/passwd");
        expect(hook.calls()).toHaveLength(0);
        expect(body(await b.client.callTool({ name: "list_secrets", arguments: {} })).secrets).toEqual([]);
      });
    });
  }

  it("shell metacharacters reach the opener as one argument, unexpanded; no other process runs", async () => {
    const hook = createBrowserHook();
    const marker = join(mkdtempSync(join(tmpdir(), "mcb-marker-")), "pwned");
    const endpoint = `https://127.0.0.1:9/authorize?a=$(touch\${IFS}${marker})&b=\`touch\${IFS}${marker}\`&c=;touch\${IFS}${marker}|x&d='"`;
    await withBroker({ OAUTH2_CLIENT_ID: "c", BROWSER: hook.path, MCB_CALLBACK_PORT: String(await freePort()), MCB_LOGIN_TIMEOUT: "2" }, async (b) => {
      const r = await b.client.callTool({ name: "start_oauth_flow", arguments: { provider: "oauth2", scopes: ["openid"], secret_name: "x", authorization_endpoint: endpoint, token_endpoint: "https://127.0.0.1:9/token" } });
      expect(r.isError).toBe(true);
      expect(body(r).error).toContain("No sign-in callback arrived");
    });
    const calls = hook.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(1);
    const opened = new URL(calls[0]![0]!);
    const expected = new URL(endpoint);
    expect(`${opened.origin}${opened.pathname}`).toBe(`${expected.origin}${expected.pathname}`);
    for (const k of ["a", "b", "c", "d"]) expect(opened.searchParams.get(k)).toBe(expected.searchParams.get(k));
    expect(existsSync(marker)).toBe(false);
  }, 20_000);

  it("a configured OAUTH2_ISSUER wins: the browser opens at the issuer's endpoint, never at the agent's", async () => {
    const hook = createBrowserHook();
    const env = { OAUTH2_CLIENT_ID: idp.clientId, OAUTH2_CLIENT_SECRET: idp.clientSecret, OAUTH2_ISSUER: idp.issuer, BROWSER: hook.path, MCB_CALLBACK_PORT: String(await freePort()), MCB_LOGIN_TIMEOUT: "2" };
    await withBroker(env, async (b) => {
      const r = await b.client.callTool({ name: "start_oauth_flow", arguments: { provider: "oauth2", scopes: ["openid"], secret_name: "x", authorization_endpoint: "https://127.0.0.1:9/agent-authorize", token_endpoint: "https://127.0.0.1:9/agent-token" } });
      expect(r.isError).toBe(true);
      expect(body(r).error).toContain("No sign-in callback arrived");
    });
    const calls = hook.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toStartWith(`${idp.issuer}/`);
    expect(calls[0]![0]).not.toContain("agent-authorize");
  }, 20_000);
});

describe.if(browserHooksWork)("callback port", () => {
  it("when the callback port is taken, the login moves to an ephemeral port and completes", async () => {
    const hook = createBrowserHook();
    const taken = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("another program") });
    try {
      const home = tempHome("mcb-attack-");
      const env = { OAUTH2_CLIENT_ID: idp.clientId, OAUTH2_CLIENT_SECRET: idp.clientSecret, OAUTH2_ISSUER: idp.issuer, BROWSER: hook.path, MCB_CALLBACK_PORT: String(taken.port) };
      const cli = runCli(["login", "oauth2", "--name", "moved"], { home, env });
      const url = await hook.waitForCall(0);
      const redirect = new URL(new URL(url).searchParams.get("redirect_uri")!);
      expect(redirect.hostname).toBe("127.0.0.1");
      expect(Number(redirect.port)).not.toBe(taken.port);
      await formBrowser(url, redirect.href);
      expect((await cli).code).toBe(0);
    } finally {
      taken.stop(true);
    }
  }, 30_000);
});

describe("not configured (acceptance 7)", () => {
  it("start_oauth_flow names the variables to set", async () => {
    await withBroker({}, async (b) => {
      const r = await b.client.callTool({ name: "start_oauth_flow", arguments: { provider: "github", scopes: ["repo"], secret_name: "gh" } });
      expect(r.isError).toBe(true);
      expect(body(r).error).toStartWith("Provider 'github' is not configured. Set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET environment variables");
      expect(body(r).error).toContain("mcp-credentials-broker provider add github");
    });
  });
  it("`login okta` names OKTA_DOMAIN too, and exits 1", async () => {
    const r = await runCli(["login", "okta"], { home: tempHome(), env: { OKTA_CLIENT_ID: "" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Provider 'okta' is not configured. Set OKTA_CLIENT_ID, OKTA_CLIENT_SECRET and OKTA_DOMAIN environment variables");
  });
});

describe("headless paste-back (`login --no-browser`)", () => {
  it("prints the URL with an ssh -L hint, refuses a pasted URL with the wrong state, accepts the right one", async () => {
    const home = tempHome("mcb-paste-");
    const port = await freePort();
    const env = { OAUTH2_CLIENT_ID: idp.clientId, OAUTH2_CLIENT_SECRET: idp.clientSecret, OAUTH2_ISSUER: idp.issuer, BROWSER: "", DISPLAY: "", MCB_CALLBACK_PORT: String(port) };
    const p = spawnBroker(["login", "oauth2", "--no-browser", "--name", "pasted"], { home, env });
    const reader = p.stderr.getReader();
    const decoder = new TextDecoder();
    let err = "";
    const until = async (re: RegExp) => {
      while (!re.test(err)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${re}: ${err}`);
        err += decoder.decode(value);
      }
      return re.exec(err)!;
    };
    const [, url] = await until(/Open this URL in a browser to sign in:\s+(\S+)/);
    await until(/ssh -L .*<this-host>/);
    expect(err).toContain(`ssh -L ${port}:127.0.0.1:${port}`);
    // The user's browser is elsewhere: it signs in but cannot load our callback.
    const landed = await formBrowser(url!, `http://127.0.0.1:${port}/oauth/callback`, undefined, { fetchCallback: false });
    const forged = new URL(landed.callbackUrl);
    forged.searchParams.set("state", "not-ours");
    p.stdin!.write(`${forged.href}\n`);
    await until(/does not belong to this sign-in/);
    p.stdin!.write(`${landed.callbackUrl}\n`);
    await until(/Token stored as 'pasted'/);
    expect(await p.exited).toBe(0);
    const token = await runCli(["secret", "get", "pasted"], { home, env });
    expect(await idp.userinfoStatus(token.stdout)).toBe(200);
  }, 30_000);
});

describe.if(browserHooksWork)("provider add (client settings kept in the store)", () => {
  it("saves a client whose secret comes from stdin, lists it without the secret, logs in with it, and removes it", async () => {
    const home = tempHome("mcb-provider-");
    const hook = createBrowserHook();
    const env = { OAUTH2_CLIENT_ID: "", OAUTH2_CLIENT_SECRET: "", OAUTH2_ISSUER: "", BROWSER: hook.path, MCB_CALLBACK_PORT: String(await freePort()) };
    const add = await runCli(["provider", "add", "oauth2", "--client-id", idp.clientId, "--issuer", idp.issuer], { home, env, input: `${idp.clientSecret}\n` });
    expect(add.code).toBe(0);
    const list = await runCli(["provider", "list", "--json"], { home, env });
    const row = JSON.parse(list.stdout).find((r: { provider: string }) => r.provider === "oauth2");
    expect(row).toEqual({ provider: "oauth2", configured: true, source: "provider add", clientId: idp.clientId, hasSecret: true });
    expect(list.stdout).not.toContain(idp.clientSecret);
    expect((await runCli(["secret", "list", "--json"], { home, env })).stdout).toBe("[]\n");
    const cli = runCli(["login", "oauth2", "--name", "via-settings"], { home, env });
    const url = await hook.waitForCall(0);
    await formBrowser(url, new URL(url).searchParams.get("redirect_uri")!);
    expect((await cli).code).toBe(0);
    expect((await runCli(["provider", "rm", "oauth2"], { home, env })).code).toBe(0);
    const again = await runCli(["login", "oauth2", "--name", "x"], { home, env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("Provider 'oauth2' is not configured");
  }, 30_000);
});
