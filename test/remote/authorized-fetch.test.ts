// authorizedFetch with a RemoteSession against a real resource server and authorization
// server on 127.0.0.1 (Bun.serve): no token until the first 401, the challenge's scope, step-up
// on 403 insufficient_scope (bounded, and never for scopes already held), and a machine's own
// credentials (client credentials) shared by requests that arrive together.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { authorizedFetch, MAX_STEP_UPS, NoTokenError, StepUpRequiredError } from "../../src/remote/authorized-fetch.ts";
import { remoteConfig } from "../../src/remote/config.ts";
import { RemoteSession } from "../../src/remote/session.ts";
import { MemoryStore } from "../../src/store/memory.ts";
import { memoryBroker } from "../core/fixtures.ts";
import { remoteTestDeps } from "../support/remote.ts";

/** What the resource server needs per path: "/open" nothing, "/read" scope a, "/write" scopes a b, "/admin" scope z (never granted). */
const NEEDS: Record<string, string[] | null> = { "/open": null, "/read": ["a"], "/write": ["a", "b"], "/admin": ["z"] };

let as: ReturnType<typeof Bun.serve>;
let rs: ReturnType<typeof Bun.serve>;
/** Token → its scopes, as issued. */
const issued = new Map<string, string[]>();
const grants: { scope: string | null; auth: string | null }[] = [];
const seenAuth: (string | null)[] = [];
let refuseAll = false;

beforeAll(() => {
  as = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const u = new URL(req.url);
      const origin = u.origin;
      if (u.pathname === "/.well-known/oauth-authorization-server") {
        return Response.json({ issuer: origin, token_endpoint: `${origin}/token`, authorization_endpoint: `${origin}/authorize`, grant_types_supported: ["client_credentials"], token_endpoint_auth_methods_supported: ["client_secret_basic"], response_types_supported: ["code"] });
      }
      if (u.pathname === "/token" && req.method === "POST") {
        const form = new URLSearchParams(await req.text());
        grants.push({ scope: form.get("scope"), auth: req.headers.get("authorization") });
        await Bun.sleep(20);
        const scopes = (form.get("scope") ?? "").split(" ").filter((s) => s && s !== "z");
        const token = `t${issued.size + 1}`;
        issued.set(token, scopes);
        return Response.json({ access_token: token, token_type: "Bearer", expires_in: 3600, scope: scopes.join(" ") });
      }
      return new Response("no", { status: 404 });
    },
  });
  rs = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const u = new URL(req.url);
      const meta = `${u.origin}/.well-known/oauth-protected-resource`;
      if (u.pathname === "/.well-known/oauth-protected-resource") return Response.json({ resource: u.origin, authorization_servers: [`http://127.0.0.1:${as.port}`] });
      const need = NEEDS[u.pathname];
      if (need === undefined) return new Response("no", { status: 404 });
      const auth = req.headers.get("authorization");
      seenAuth.push(auth);
      if (need === null) return new Response("ok");
      const token = /^Bearer (.+)$/.exec(auth ?? "")?.[1];
      const held = token ? issued.get(token) : undefined;
      if (!held || refuseAll) return new Response("{}", { status: 401, headers: { "www-authenticate": `Bearer resource_metadata="${meta}", scope="${need.join(" ")}"` } });
      if (!need.every((s) => held.includes(s))) return new Response("{}", { status: 403, headers: { "www-authenticate": `Bearer error="insufficient_scope", scope="${need.join(" ")}", resource_metadata="${meta}"` } });
      return new Response("ok");
    },
  });
});
afterAll(() => {
  as.stop(true);
  rs.stop(true);
});

const url = (path: string) => `http://127.0.0.1:${rs.port}${path}`;

function session(env: Record<string, string> = {}) {
  return new RemoteSession(remoteConfig(url("/read"), env), remoteTestDeps(new MemoryStore()));
}

describe("authorizedFetch", () => {
  it("sends no token to a server that needs none, and never asks for a sign-in", async () => {
    let signIns = 0;
    const f = authorizedFetch(session(), fetch, {
      onNoToken: async () => {
        signIns++;
        return null;
      },
    });
    seenAuth.length = 0;
    expect((await f(url("/open"))).status).toBe(200);
    expect(seenAuth).toEqual([null]);
    expect(signIns).toBe(0);
  });

  it("without a sign-in to be had, a 401 is NoTokenError (the proxy's own 401)", async () => {
    const f = authorizedFetch(session(), fetch, { onNoToken: async () => null });
    await expect(f(url("/read"))).rejects.toBeInstanceOf(NoTokenError);
  });

  it("client credentials: the 401's scope is asked for; requests arriving together share one grant", async () => {
    grants.length = 0;
    const s = session({ CLIENT_ID: "svc", CLIENT_SECRET: "s3cret", CLIENT_CREDENTIALS: "true" });
    const f = authorizedFetch(s, fetch, { onNoToken: async () => null });
    const statuses = await Promise.all([1, 2, 3, 4, 5].map(() => f(url("/read")).then((r) => r.status)));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(grants.length).toBe(1);
    expect(grants[0]!.scope).toBe("a");
    expect(grants[0]!.auth).toBe(`Basic ${btoa("svc:s3cret")}`);
  });

  it("sign-ins and sign-outs go through the audit port: one intent and one outcome line per grant (requests arriving together share it), the server's origin as target, no token", async () => {
    const { broker, audit } = memoryBroker();
    const deps = remoteTestDeps(new MemoryStore());
    const s = new RemoteSession(remoteConfig(url("/read"), { CLIENT_ID: "svc", CLIENT_SECRET: "s3cret", CLIENT_CREDENTIALS: "true" }), {
      ...deps,
      audit: (change, fn) => broker.auditChange(change, { client: "cli", user: true }, fn),
    });
    const f = authorizedFetch(s, fetch, { onNoToken: async () => null });
    expect(await Promise.all([1, 2, 3].map(() => f(url("/read")).then((r) => r.status)))).toEqual([200, 200, 200]);
    const token = (await s.accessToken())!;
    expect(await s.logout()).toBe(true);
    await broker.close();
    const origin = `http://127.0.0.1:${rs.port}`;
    expect(audit.entries.map((e) => [e.event, e.outcome, e.target])).toEqual([
      ["remote-login", "intent", origin],
      ["remote-login", "ok", origin],
      ["remote-logout", "intent", origin],
      ["remote-logout", "ok", origin],
    ]);
    expect(JSON.stringify(audit.entries)).not.toContain(token);
    expect(JSON.stringify(audit.entries)).not.toContain("s3cret");
  });

  it("403 insufficient_scope: one step-up with the token's scopes and the challenge's, then the request passes", async () => {
    grants.length = 0;
    const s = session({ CLIENT_ID: "svc", CLIENT_SECRET: "s3cret", CLIENT_CREDENTIALS: "true" });
    const f = authorizedFetch(s, fetch, { onNoToken: async () => null });
    expect((await f(url("/read"))).status).toBe(200);
    expect((await f(url("/write"))).status).toBe(200);
    expect(grants.map((g) => g.scope)).toEqual(["a", "a b"]);
  });

  it("a step-up the server never accepts stops: none for scopes already held, at most MAX_STEP_UPS per request", async () => {
    grants.length = 0;
    const s = session({ CLIENT_ID: "svc", CLIENT_SECRET: "s3cret", CLIENT_CREDENTIALS: "true" });
    const f = authorizedFetch(s, fetch, { onNoToken: async () => null });
    // /admin wants z, which the server never grants: the first grant asks for it (from the
    // 401), then each 403 would ask again — bounded.
    const res = await f(url("/admin"));
    expect(res.status).toBe(403);
    expect(grants.length).toBeLessThanOrEqual(1 + MAX_STEP_UPS);
    expect(grants.every((g) => g.scope?.includes("z"))).toBe(true);
  });

  it("the proxy (no onStepUp, a person's sign-in) hears StepUpRequiredError with the scopes to ask for", async () => {
    const s = session();
    let token: string | null = null;
    const f = authorizedFetch(s, fetch, {
      // Stands in for the browser: a token with scope a, as a sign-in would store it.
      onNoToken: async () => {
        token = "t-person";
        issued.set(token, ["a"]);
        return token;
      },
    });
    expect((await f(url("/read"))).status).toBe(200);
    // The session knows the token's scopes only from a stored login; here it holds none, so the
    // step-up names the challenge's scopes.
    const e = await f(url("/write")).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(StepUpRequiredError);
    expect((e as StepUpRequiredError).scopes).toEqual(["a", "b"]);
  });
});
