// The loopback callback server: loopback only, Host/Origin checks, one state once, port
// fallback (RFC 8252 §7.3) or a clear error, timeouts, and no kept-alive connection left.
import { describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { isBrokerError } from "../../src/errors.ts";
import { isLoopbackAddress, loopbackHosts } from "../../src/net/loopback.ts";
import { callbackPage, constantTimeEqual, escapeHtml, startCallbackServer } from "../../src/oauth/loopback.ts";
import { freePort } from "../support/ports.ts";

/** Sends one raw HTTP/1.1 request and returns everything the server sent until it closed. */
function rawRequest(host: string, port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let data = "";
    sock.on("connect", () => sock.write(request));
    sock.on("data", (c) => (data += c.toString("utf8")));
    sock.on("end", () => resolve(data));
    sock.on("close", () => resolve(data));
    sock.on("error", reject);
    setTimeout(() => {
      sock.destroy();
      resolve(data);
    }, 3_000);
  });
}

async function server(extra: Partial<Parameters<typeof startCallbackServer>[0]> = {}) {
  return startCallbackServer({ state: "the-state", redirectHost: "127.0.0.1", allowEphemeralPort: true, port: await freePort(), timeoutMs: 10_000, ...extra });
}

describe("callback server", () => {
  // Only Linux routes all of 127.0.0.0/8 to lo by default (macOS has 127.0.0.1 alone).
  it.if(process.platform === "linux")("listens on 127.0.0.1 only: another loopback address and [::1] are refused", async () => {
    const cb = await server();
    try {
      await expect(rawRequest("127.0.0.2", cb.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")).rejects.toThrow(/ECONNREFUSED/);
      await expect(rawRequest("::1", cb.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")).rejects.toThrow(/ECONNREFUSED|EADDRNOTAVAIL/);
    } finally {
      cb.stop();
    }
  });

  it.if(process.platform === "linux")("binds the loopback address itself, not 0.0.0.0, so no LAN address reaches it (from /proc/net/tcp, no traffic sent)", async () => {
    const cb = await server();
    try {
      const listening = readFileSync("/proc/net/tcp", "utf8")
        .split("\n")
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f[3] === "0A" && Number.parseInt(f[1]!.split(":")[1]!, 16) === cb.port);
      expect(listening.map((f) => f[1]!.split(":")[0])).toEqual(["0100007F"]);
    } finally {
      cb.stop();
    }
  });

  it("checks peers: only loopback addresses may call back", () => {
    for (const a of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]) expect(isLoopbackAddress(a)).toBe(true);
    for (const a of ["10.0.0.5", "192.168.1.2", "::ffff:10.0.0.1", "fe80::1", "", undefined]) expect(isLoopbackAddress(a)).toBe(false);
  });

  it("answers a callback with Host: evil.example with 421 and keeps waiting (DNS rebinding)", async () => {
    const cb = await server();
    try {
      const res = await rawRequest("127.0.0.1", cb.port, `GET /oauth/callback?code=c&state=the-state HTTP/1.1\r\nHost: evil.example\r\n\r\n`);
      expect(res).toStartWith("HTTP/1.1 421");
      const ok = fetch(`http://127.0.0.1:${cb.port}/oauth/callback?code=c&state=the-state`);
      expect((await cb.result).get("code")).toBe("c");
      cb.complete({ ok: true, message: "done" });
      expect((await ok).status).toBe(200);
    } finally {
      cb.stop();
    }
  });

  it("refuses a foreign Origin, other paths and other methods", async () => {
    const cb = await server();
    try {
      expect((await fetch(`http://127.0.0.1:${cb.port}/oauth/callback?state=the-state&code=c`, { headers: { origin: "https://evil.example" } })).status).toBe(403);
      expect((await fetch(`http://127.0.0.1:${cb.port}/other?state=the-state&code=c`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${cb.port}/oauth/callback?state=the-state&code=c`, { method: "POST" })).status).toBe(404);
      expect(loopbackHosts(cb.port).has(`localhost:${cb.port}`)).toBe(true);
    } finally {
      cb.stop();
    }
  });

  it("accepts its state once; the answer closes the connection (no keep-alive to a stale server)", async () => {
    const cb = await server();
    try {
      const first = rawRequest("127.0.0.1", cb.port, `GET /oauth/callback?code=c1&state=the-state HTTP/1.1\r\nHost: 127.0.0.1:${cb.port}\r\nConnection: keep-alive\r\n\r\n`);
      expect((await cb.result).get("code")).toBe("c1");
      cb.complete({ ok: true, message: "ok" });
      const raw = await first;
      expect(raw).toStartWith("HTTP/1.1 200");
      expect(raw.toLowerCase()).toContain("connection: close");
      const again = await fetch(`http://127.0.0.1:${cb.port}/oauth/callback?code=c2&state=the-state`);
      expect(again.status).toBe(400);
      expect(await again.text()).toContain("Already used");
    } finally {
      cb.stop();
    }
    // stop() closed the listener.
    await expect(fetch(`http://127.0.0.1:${cb.port}/oauth/callback`)).rejects.toThrow();
  });

  it("moves to an ephemeral port when the port is taken and the provider allows any port", async () => {
    const taken = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("someone else") });
    const cb = await server({ port: taken.port! });
    try {
      expect(cb.port).not.toBe(taken.port);
      expect(cb.redirectUri).toBe(`http://127.0.0.1:${cb.port}/oauth/callback`);
    } finally {
      cb.stop();
      taken.stop(true);
    }
  });

  it("gives a clear error, not a hang, when the port is taken and the provider needs it", async () => {
    const taken = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("someone else") });
    try {
      const err = await server({ port: taken.port!, allowEphemeralPort: false, portWaitMs: 300 }).catch((e) => e);
      expect(isBrokerError(err, "CALLBACK_PORT_BUSY")).toBe(true);
      expect(err.message).toContain(String(taken.port));
    } finally {
      taken.stop(true);
    }
  });

  it("waits for the port when the provider needs it and it frees up", async () => {
    const port = await freePort();
    const taken = Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("x") });
    setTimeout(() => taken.stop(true), 300);
    const cb = await server({ port, allowEphemeralPort: false, portWaitMs: 5_000 });
    expect(cb.port).toBe(port);
    cb.stop();
  });

  it("two concurrent flows in one process each get a port", async () => {
    const port = await freePort();
    const a = await server({ port, state: "a" });
    const b = await server({ port, state: "b" });
    expect(a.port).toBe(port);
    expect(b.port).not.toBe(port);
    const page = fetch(`http://127.0.0.1:${b.port}/oauth/callback?state=b&code=for-b`);
    expect((await b.result).get("code")).toBe("for-b");
    b.complete({ ok: true, message: "ok" });
    expect((await page).status).toBe(200);
    a.stop();
    b.stop();
  });

  it("binds [::1] too when the redirect host is localhost, so nobody else can take it", async () => {
    const cb = await server({ redirectHost: "localhost" });
    try {
      expect(cb.redirectUri).toBe(`http://localhost:${cb.port}/oauth/callback`);
      const res = await rawRequest("::1", cb.port, `GET /oauth/callback?state=wrong HTTP/1.1\r\nHost: localhost:${cb.port}\r\n\r\n`).catch(() => "no ipv6");
      if (res !== "no ipv6") expect(res).toStartWith("HTTP/1.1 400");
    } finally {
      cb.stop();
    }
  });

  it("defaults to the original's port 9876 and path /oauth/callback (another free port if 9876 is busy)", async () => {
    const cb = await startCallbackServer({ state: "s", redirectHost: "localhost", allowEphemeralPort: true, timeoutMs: 5_000 });
    try {
      if (cb.port === 9876) expect(cb.redirectUri).toBe("http://localhost:9876/oauth/callback");
      // Otherwise another program holds 9876 right now (another checkout's tests, say).
      else expect(await rawRequest("127.0.0.1", 9876, "").then(() => true, () => false)).toBe(true);
      expect(new URL(cb.redirectUri).pathname).toBe("/oauth/callback");
    } finally {
      cb.stop();
    }
  });

  it("times out with OAUTH_TIMEOUT and stops listening", async () => {
    const cb = await server({ timeoutMs: 200 });
    const err = await cb.result.catch((e) => e);
    expect(isBrokerError(err, "OAUTH_TIMEOUT")).toBe(true);
    await Bun.sleep(100);
    await expect(fetch(`http://127.0.0.1:${cb.port}/oauth/callback`)).rejects.toThrow();
  });

  it("an abort signal cancels the wait", async () => {
    const ac = new AbortController();
    const cb = await server({ signal: ac.signal });
    ac.abort();
    expect(isBrokerError(await cb.result.catch((e) => e), "OAUTH_TIMEOUT")).toBe(true);
  });
});

describe("page and comparisons", () => {
  it("escapes everything it echoes", async () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\``)).toBe("&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;&#96;");
    const res = callbackPage("<b>t</b>", ["<script>alert(1)</script>"], 400);
    const html = await res.text();
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<b>");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("connection")).toBe("close");
  });
  it("compares states in constant time and exactly", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
    expect(constantTimeEqual("", "x")).toBe(false);
  });
});
