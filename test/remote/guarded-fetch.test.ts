// The guarded fetch connects to an address the SSRF policy decided on, never to a second
// lookup's answer (DNS rebinding). Names here resolve only through the injected resolver:
// the fetch under test refuses any URL that is not an IP literal, so a request that would
// make fetch resolve a name fails the test instead of sending a DNS query. All servers and
// connections are on 127.0.0.0/8.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { classifyAddress, type Resolver } from "../../src/remote/address-policy.ts";
import { guardFetch, pinnedUrl, proxyConfigured, proxyMode } from "../../src/remote/guarded-fetch.ts";
import type { FetchLike } from "../../src/oauth/http.ts";
import { freePort } from "../support/ports.ts";
import { suiteCanRun } from "../support/requirements.ts";
import { makeTestCa } from "../support/test-ca.ts";

/** Real fetch as the broker makes it (src/runtime.ts), for IP literals only; records every URL it was given. */
function literalOnlyFetch(): FetchLike & { urls: string[] } {
  const urls: string[] = [];
  const fetch = new Bun.FetchSession({ keepAlive: false }).fetch;
  const f = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    urls.push(url.href);
    if (classifyAddress(url.hostname) === null) throw new Error(`the test fetch would have resolved ${url.hostname}`);
    return fetch(input, init);
  }) as FetchLike & { urls: string[] };
  f.urls = urls;
  return f;
}

/** A fetch that sends nothing: it notes the URL and answers `{}` itself. */
function recordingFetch(): { f: FetchLike; urls: string[] } {
  const urls: string[] = [];
  const f: FetchLike = async (input) => {
    urls.push(String(input));
    return new Response("{}");
  };
  return { f, urls };
}

/** A resolver that answers each name from a queue of answers (the last one repeats). */
function scriptedResolver(answers: Record<string, string[][]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const r = (async (name: string) => {
    asked.push(name);
    const queue = answers[name];
    if (!queue) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: "ENOTFOUND" });
    return queue.length > 1 ? queue.shift()! : queue[0]!;
  }) as Resolver & { asked: string[] };
  r.asked = asked;
  return r;
}

describe("guardFetch over http", () => {
  const seen: { host: string | null; path: string }[] = [];
  let server: ReturnType<typeof Bun.serve>;
  beforeAll(() => {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        seen.push({ host: req.headers.get("host"), path: new URL(req.url).pathname });
        return Response.json({ ok: true });
      },
    });
  });
  afterAll(() => server.stop(true));
  const mcp = () => new URL(`http://127.0.0.1:${server.port}/mcp`);

  it("connects to the address the policy checked, with the name in Host", async () => {
    seen.length = 0;
    const base = literalOnlyFetch();
    const resolve = scriptedResolver({ "auth.rebind.test": [["127.0.0.1"]] });
    const res = await guardFetch(base, mcp(), resolve, {})(`http://auth.rebind.test:${server.port}/token`, { method: "POST", body: "grant_type=x" });
    expect(res.status).toBe(200);
    expect(base.urls).toEqual([`http://127.0.0.1:${server.port}/token`]);
    expect(seen).toEqual([{ host: `auth.rebind.test:${server.port}`, path: "/token" }]);
  });

  it("a name that rebinds to a metadata address between two requests is refused before any connection", async () => {
    seen.length = 0;
    const base = literalOnlyFetch();
    // First answer loopback (allowed: the configured server is loopback), then the cloud metadata address.
    const resolve = scriptedResolver({ "auth.rebind.test": [["127.0.0.1"], ["169.254.169.254"]] });
    const guarded = guardFetch(base, mcp(), resolve, {});
    expect((await guarded(`http://auth.rebind.test:${server.port}/a`)).status).toBe(200);
    await expect(guarded(`http://auth.rebind.test:${server.port}/b`)).rejects.toMatchObject({ code: "UNSAFE_URL" });
    expect(base.urls).toEqual([`http://127.0.0.1:${server.port}/a`]);
    expect(seen.map((s) => s.path)).toEqual(["/a"]);
  });

  it("tries the next checked address when one refuses the connection", async () => {
    seen.length = 0;
    const base = literalOnlyFetch();
    // Nothing listens on [::1] (the server is bound to 127.0.0.1 only). [::1] rather than
    // 127.0.0.2: macOS has no other 127/8 address on lo0.
    const resolve = scriptedResolver({ "auth.two.test": [["::1", "127.0.0.1"]] });
    const res = await guardFetch(base, mcp(), resolve, {})(`http://auth.two.test:${server.port}/x`);
    expect(res.status).toBe(200);
    expect(base.urls).toEqual([`http://[::1]:${server.port}/x`, `http://127.0.0.1:${server.port}/x`]);
    expect(seen).toEqual([{ host: `auth.two.test:${server.port}`, path: "/x" }]);
  });

  it("when no checked address answers, the error names the URL's origin, not an address", async () => {
    const base = literalOnlyFetch();
    const resolve = scriptedResolver({ "auth.down.test": [["::1", "127.0.0.1"]] });
    const dead = await freePort(); // nothing listens there, on either address
    const err = await guardFetch(base, mcp(), resolve, {})(`http://auth.down.test:${dead}/x`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "REMOTE_UNREACHABLE" });
    expect((err as Error).message).toContain(`Could not reach http://auth.down.test:${dead}`);
    expect((err as Error).message).not.toContain("127.0.0.1");
    expect((err as Error).message).not.toContain("::1");
    expect(base.urls).toHaveLength(2);
  });

  it("IP literals and localhost are fetched as they are, without a lookup", async () => {
    const base = literalOnlyFetch();
    const resolve = scriptedResolver({});
    await guardFetch(base, mcp(), resolve, {})(`http://127.0.0.1:${server.port}/lit`);
    expect(base.urls).toEqual([`http://127.0.0.1:${server.port}/lit`]);
    // localhost (RFC 6761 §6.3) is loopback by name; a recording fetch, as it would be resolved.
    const { f, urls } = recordingFetch();
    await guardFetch(f, mcp(), resolve, {})(`http://localhost:${server.port}/name`);
    expect(urls).toEqual([`http://localhost:${server.port}/name`]);
    expect(resolve.asked).toEqual([]);
  });

  it("with a proxy in the environment the name is kept (the proxy connects), after the same check", async () => {
    const { f: recording, urls } = recordingFetch();
    // The recording fetch sends nothing: these documentation-range addresses are only classified.
    const resolve = scriptedResolver({ "mcp.example.com": [["192.0.2.10"]], "auth.example.com": [["192.0.2.20"]], "evil.example.com": [["169.254.169.254"]] });
    const guarded = guardFetch(recording, new URL("https://mcp.example.com/mcp"), resolve, { HTTPS_PROXY: "http://127.0.0.1:3128" });
    await guarded("https://auth.example.com/token");
    await expect(guarded("https://evil.example.com/token")).rejects.toMatchObject({ code: "UNSAFE_URL" });
    expect(urls).toEqual(["https://auth.example.com/token"]);
  });
});

describe("a network where only the proxy resolves outside names", () => {
  // Nothing is sent: the recording fetch answers itself; the resolver knows no names at all.
  const server = new URL("https://mcp.example.com/mcp");
  const noDns = scriptedResolver({});
  const proxied = { HTTPS_PROXY: "http://127.0.0.1:3128" };

  it("by default a name this machine cannot resolve is refused, naming the opt-in when a proxy is set", async () => {
    const { f, urls } = recordingFetch();
    const err = await guardFetch(f, server, noDns, proxied)("https://auth.example.com/token").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "REMOTE_UNREACHABLE" });
    expect((err as Error).message).toStartWith("Cannot resolve auth.example.com (ENOTFOUND).");
    expect((err as Error).message).toContain("MCB_PROXY_RESOLVES_NAMES=1");
    const direct = await guardFetch(f, server, noDns, {})("https://auth.example.com/token").catch((e: unknown) => e);
    expect((direct as Error).message).not.toContain("MCB_PROXY_RESOLVES_NAMES");
    expect(urls).toEqual([]);
  });

  it("with MCB_PROXY_RESOLVES_NAMES=1 such names go to the proxy by name; literals are still checked", async () => {
    const { f, urls } = recordingFetch();
    const guarded = guardFetch(f, server, noDns, { ...proxied, MCB_PROXY_RESOLVES_NAMES: "1" });
    await guarded("https://auth.example.com/token");
    await expect(guarded("http://169.254.169.254/latest/meta-data/")).rejects.toMatchObject({ code: "UNSAFE_URL" });
    await expect(guarded("http://10.0.0.1/token")).rejects.toMatchObject({ code: "UNSAFE_URL" });
    expect(urls).toEqual(["https://auth.example.com/token"]);
  });

  it("a name that does resolve here is still decided by its addresses", async () => {
    const { f, urls } = recordingFetch();
    const resolve = scriptedResolver({ "metadata.example.com": [["169.254.169.254"]] });
    const guarded = guardFetch(f, server, resolve, { ...proxied, MCB_PROXY_RESOLVES_NAMES: "1" });
    await expect(guarded("http://metadata.example.com/")).rejects.toMatchObject({ code: "UNSAFE_URL" });
    expect(urls).toEqual([]);
  });

  it("MCB_PROXY_RESOLVES_NAMES means nothing without a proxy", async () => {
    const { f, urls } = recordingFetch();
    await expect(guardFetch(f, server, noDns, { MCB_PROXY_RESOLVES_NAMES: "1" })("https://auth.example.com/token")).rejects.toMatchObject({ code: "REMOTE_UNREACHABLE" });
    expect(urls).toEqual([]);
  });

  it.each([
    [{}, "none"],
    [{ MCB_PROXY_RESOLVES_NAMES: "1" }, "none"],
    [{ HTTPS_PROXY: "http://p:3128" }, "configured"],
    [{ HTTPS_PROXY: "http://p:3128", MCB_PROXY_RESOLVES_NAMES: "0" }, "configured"],
    [{ http_proxy: "http://p:3128", MCB_PROXY_RESOLVES_NAMES: "true" }, "resolves-names"],
  ] as [Record<string, string>, string][])("proxyMode(%o) = %p", (env, mode) => {
    expect(proxyMode(env)).toBe(mode as ReturnType<typeof proxyMode>);
  });
});

describe("proxyConfigured and pinnedUrl", () => {
  it.each([
    [{}, false],
    [{ HTTPS_PROXY: "" }, false],
    [{ HTTPS_PROXY: "  " }, false],
    [{ HTTPS_PROXY: "http://p:3128" }, true],
    [{ http_proxy: "http://p:3128" }, true],
    [{ NO_PROXY: "*" }, false],
  ] as [Record<string, string>, boolean][])("%o → %p", (env, expected) => {
    expect(proxyConfigured(env)).toBe(expected);
  });
  it("keeps scheme, port, path and query; brackets IPv6", () => {
    expect(pinnedUrl(new URL("https://auth.example.com:8443/t?x=1"), "192.0.2.1")).toBe("https://192.0.2.1:8443/t?x=1");
    expect(pinnedUrl(new URL("https://auth.example.com/t"), "2001:db8::1")).toBe("https://[2001:db8::1]/t");
  });
});

const canRun = suiteCanRun("pinned TLS (a private test CA)", ["openssl"], "apt-get install -y --no-install-recommends openssl");

describe.if(canRun)("guardFetch over TLS", () => {
  let server: ReturnType<typeof Bun.serve>;
  let ca = "";
  const hosts: (string | null)[] = [];
  beforeAll(() => {
    const files = makeTestCa(mkdtempSync(join(tmpdir(), "mcb-pin-")), "DNS:auth.pin.test");
    ca = readFileSync(files.ca, "utf8");
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: readFileSync(files.cert, "utf8"), key: readFileSync(files.key, "utf8") },
      fetch(req) {
        hosts.push(req.headers.get("host"));
        return Response.json({ ok: true });
      },
    });
  });
  afterAll(() => server.stop(true));
  const mcp = () => new URL(`https://127.0.0.1:${server.port}/mcp`);
  const tls = () => ({ tls: { ca } }) as RequestInit;

  it("the certificate is checked against the name, with the connection at the checked address", async () => {
    hosts.length = 0;
    const base = literalOnlyFetch();
    const resolve = scriptedResolver({ "auth.pin.test": [["127.0.0.1"]] });
    const res = await guardFetch(base, mcp(), resolve, {})(`https://auth.pin.test:${server.port}/token`, tls());
    expect(res.status).toBe(200);
    expect(base.urls).toEqual([`https://127.0.0.1:${server.port}/token`]);
    expect(hosts).toEqual([`auth.pin.test:${server.port}`]);
  });

  it("a name the certificate does not cover is refused as untrusted, naming that name", async () => {
    const base = literalOnlyFetch();
    const resolve = scriptedResolver({ "other.pin.test": [["127.0.0.1"]] });
    const err = await guardFetch(base, mcp(), resolve, {})(`https://other.pin.test:${server.port}/token`, tls()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "REMOTE_UNREACHABLE" });
    expect((err as Error).message).toContain(`The TLS certificate of https://other.pin.test:${server.port} is not trusted`);
  });
});
