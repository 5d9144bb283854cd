// Refresh and logout with the compiled binary (acceptance 5; RFC 7009): tokens logged in
// through the CLI (the BROWSER hook's URL completed by a scripted browser), refreshed by
// get_secret and `secret get` — one request at the IdP for 50 concurrent calls in one
// process and for 4 processes at once — and "log in again" once the refresh token is revoked.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { FileStore } from "../../src/store/file.ts";
import { startIdp, type Idp } from "../fixtures/idp.ts";
import { browserHooksWork, createBrowserHook } from "../support/browser-hook.ts";
import { formBrowser } from "../support/form-browser.ts";
import { freePort } from "../support/ports.ts";
import { body, connectBroker, runCli, tempHome } from "./harness.ts";

let idp: Idp;
let home: string;
let env: Record<string, string>;
const hook = createBrowserHook();
let calls = 0;

beforeAll(async () => {
  idp = await startIdp();
  home = tempHome("mcb-refresh-");
  env = {
    OAUTH2_CLIENT_ID: idp.clientId,
    OAUTH2_CLIENT_SECRET: idp.clientSecret,
    OAUTH2_ISSUER: idp.issuer,
    BROWSER: hook.path,
    MCB_CALLBACK_PORT: String(await freePort()),
    MCB_LOGIN_TIMEOUT: "30",
  };
});
afterAll(async () => {
  await idp?.stop();
});

/**
 * Logs in as `name` with access tokens that live `ttl` seconds (later ones live an hour).
 * A short-lived token is then dated an hour back, as one issued long ago that is now
 * within the 60 s refresh skew: a token that only ever lived 30 s gets a skew of a quarter
 * of that (src/core/expiry.ts) and would not be refreshed yet.
 */
async function login(name: string, ttl: number): Promise<void> {
  idp.accessTokenTtl = ttl;
  const cli = runCli(["login", "oauth2", "--name", name], { home, env });
  const url = await hook.waitForCall(calls++);
  await formBrowser(url, new URL(url).searchParams.get("redirect_uri")!);
  const r = await cli;
  expect(r.code).toBe(0);
  idp.accessTokenTtl = 3600;
  if (ttl < 3600) {
    const store = new FileStore({ dir: home });
    try {
      const rec = (await store.get(name))!;
      await store.set(name, { ...rec, updatedAt: rec.updatedAt - 3_600_000 });
    } finally {
      await store.close();
    }
  }
}

/** The stored record, read through the file store the binary writes: tests only. */
async function stored(name: string) {
  const store = new FileStore({ dir: home });
  try {
    return (await store.get(name))!;
  } finally {
    await store.close();
  }
}

describe.if(browserHooksWork)("refresh through the binary", () => {
  it("50 concurrent get_secret calls in one process cause exactly one refresh request; the new token works", async () => {
    await login("busy", 30);
    const old = await stored("busy");
    const count = idp.counts.refresh_token;
    const b = await connectBroker({ home, env });
    try {
      const refs = await Promise.all(Array.from({ length: 50 }, (_, i) => b.client.callTool({ name: "get_secret", arguments: { name: "busy", purpose: `call ${i}` } })));
      for (const r of refs) expect(body(r).success).toBe(true);
      expect(idp.counts.refresh_token - count).toBe(1);
      const value = body(await b.client.callTool({ name: "resolve_secret", arguments: { reference_id: body(refs[0]).reference.id } })).value;
      expect(value).not.toBe(old.value);
      expect(await idp.userinfoStatus(value)).toBe(200);
      expect((await stored("busy")).oauth!.generation).toBe(old.oauth!.generation + 1);
    } finally {
      await b.close();
    }
  }, 60_000);

  it("4 processes running `secret get` at once cause exactly one refresh request and print the same token", async () => {
    await login("multi", 30);
    const count = idp.counts.refresh_token;
    const runs = await Promise.all([0, 1, 2, 3].map(() => runCli(["secret", "get", "multi"], { home, env })));
    for (const r of runs) expect(r.code).toBe(0);
    expect(idp.counts.refresh_token - count).toBe(1);
    expect(new Set(runs.map((r) => r.stdout)).size).toBe(1);
    expect(await idp.userinfoStatus(runs[0]!.stdout)).toBe(200);
  }, 60_000);

  it("a revoked refresh token gives the 'log in again' error, and a new login fixes it", async () => {
    await login("revoked", 30);
    const rt = (await stored("revoked")).oauth!.refreshToken!;
    const res = await fetch(`${idp.issuer}/token/revocation`, { method: "POST", body: new URLSearchParams({ token: rt, token_type_hint: "refresh_token", client_id: idp.clientId, client_secret: idp.clientSecret }) });
    expect(res.status).toBe(200);
    const b = await connectBroker({ home, env });
    try {
      const r = await b.client.callTool({ name: "get_secret", arguments: { name: "revoked", purpose: "after revocation" } });
      expect(r.isError).toBe(true);
      const msg = body(r).error as string;
      expect(msg).toContain("Log in again with `mcp-credentials-broker login");
      expect(msg).toContain("--name revoked");
      expect(msg).not.toContain(rt);
    } finally {
      await b.close();
    }
    await login("revoked", 3600);
    const after = await runCli(["secret", "get", "revoked"], { home, env });
    expect(after.code).toBe(0);
    expect(await idp.userinfoStatus(after.stdout)).toBe(200);
  }, 60_000);

  it("logout revokes at the provider (RFC 7009) and deletes the secret", async () => {
    await login("bye", 3600);
    const access = (await stored("bye")).value;
    expect(await idp.userinfoStatus(access)).toBe(200);
    const revocations = idp.counts.revocation;
    const r = await runCli(["logout", "bye"], { home, env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("revoked at the provider and deleted");
    expect(idp.counts.revocation - revocations).toBe(2);
    expect(await idp.userinfoStatus(access)).toBe(401);
    const gone = await runCli(["secret", "get", "bye"], { home, env });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("No secret named 'bye'");
  }, 60_000);
});
