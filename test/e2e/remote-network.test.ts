// Corporate networks through the compiled binary (issue 6, "Corporate networks"): a remote
// server behind a TLS certificate from a private CA is reached with NODE_EXTRA_CA_CERTS and
// refused without it, with a message that names the fix, also through an HTTPS_PROXY CONNECT
// tunnel; an unreachable server says so. (HTTP_PROXY / NO_PROXY: test/e2e/remote-connect.test.ts.)
// All traffic on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTunnelProxy } from "../fixtures/forward-proxy.ts";
import { freePort } from "../support/ports.ts";
import { suiteCanRun } from "../support/requirements.ts";
import { makeTestCa } from "../support/test-ca.ts";
import { spawnBroker, tempHome } from "./harness.ts";

const canRun = suiteCanRun("TLS e2e (a private test CA)", ["openssl"], "apt-get install -y --no-install-recommends openssl");

describe.if(canRun)("connect on a network with its own TLS CA", () => {
  let server: ReturnType<typeof Bun.serve> | undefined;
  let ca = "";
  const seen: string[] = [];
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "mcb-tls-"));
    const files = makeTestCa(dir, "IP:127.0.0.1");
    ca = files.ca;
    // Enough of a server to be probed: every request is noted; the MCP endpoint asks for a
    // sign-in (401) and everything else is 404, so discovery runs and then fails.
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: readFileSync(files.cert, "utf8"), key: readFileSync(files.key, "utf8") },
      fetch(req) {
        const path = new URL(req.url).pathname;
        seen.push(`${req.method} ${path}`);
        return new Response("{}", { status: path === "/mcp" ? 401 : 404, headers: { "content-type": "application/json" } });
      },
    });
  });
  afterAll(() => server?.stop(true));

  /** Sends one initialize through `connect`: the server is first contacted for it. The answer is a JSON-RPC error naming the cause. */
  async function connect(url: string, env: Record<string, string>) {
    const p = spawnBroker(["connect", url], { home: tempHome("mcb-tls-"), env: { BROWSER: "/bin/false", ...env }, stdin: "pipe" });
    const stdin = p.stdin as import("bun").FileSink;
    stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } })}\n`);
    stdin.flush();
    const reader = p.stdout.getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    stdin.end();
    reader.releaseLock();
    const [code, stderr] = await Promise.all([p.exited, new Response(p.stderr).text()]);
    const reply = text ? (JSON.parse(text.split("\n")[0]!) as { error?: { message: string } }) : {};
    return { code, stderr: `${stderr}\n${reply.error?.message ?? ""}`, reply };
  }

  it("reaches the server with NODE_EXTRA_CA_CERTS naming the CA", async () => {
    seen.length = 0;
    const r = await connect(`https://127.0.0.1:${server!.port}/mcp`, { NODE_EXTRA_CA_CERTS: ca });
    // The TLS handshake passed: the request reached the server, whose 401 started discovery
    // (it then fails, as this server has no OAuth) and the client got an error answer.
    expect(seen).toContain("POST /mcp");
    expect(seen).toContain("GET /.well-known/oauth-protected-resource/mcp");
    expect(r.reply.error).toBeDefined();
    expect(r.stderr).not.toContain("not trusted");
  }, 30_000);

  it("through HTTPS_PROXY: a CONNECT tunnel, with the certificate still checked end to end", async () => {
    const tunnel = await startTunnelProxy();
    try {
      seen.length = 0;
      const proxied = { HTTPS_PROXY: tunnel.url, https_proxy: tunnel.url, NO_PROXY: "", no_proxy: "" };
      const r = await connect(`https://127.0.0.1:${server!.port}/mcp`, { NODE_EXTRA_CA_CERTS: ca, ...proxied });
      expect(tunnel.seen).toContain(`CONNECT 127.0.0.1:${server!.port}`);
      expect(tunnel.seen.every((l) => l.startsWith("CONNECT "))).toBe(true);
      expect(seen).toContain("GET /.well-known/oauth-protected-resource/mcp");
      expect(r.stderr).not.toContain("not trusted");
      // The proxy only relays bytes: without the CA the certificate is refused all the same.
      seen.length = 0;
      tunnel.seen.length = 0;
      const untrusted = await connect(`https://127.0.0.1:${server!.port}/mcp`, proxied);
      expect(tunnel.seen).toContain(`CONNECT 127.0.0.1:${server!.port}`);
      expect(seen).toEqual([]);
      expect(untrusted.stderr).toContain(`The TLS certificate of https://127.0.0.1:${server!.port} is not trusted`);
    } finally {
      await tunnel.stop();
    }
  }, 30_000);

  it("without it, refuses the certificate and says how to trust the CA", async () => {
    seen.length = 0;
    const r = await connect(`https://127.0.0.1:${server!.port}/mcp`, {});
    expect(seen).toEqual([]);
    expect(r.reply.error).toBeDefined();
    expect(r.stderr).toContain(`The TLS certificate of https://127.0.0.1:${server!.port} is not trusted`);
    expect(r.stderr).toContain("NODE_EXTRA_CA_CERTS");
    expect(r.stderr).not.toContain("Internal error");
  }, 30_000);

  it("an unreachable server: names it and the error, not an internal error", async () => {
    const port = await freePort(); // nothing listens there
    const r = await connect(`http://127.0.0.1:${port}/mcp`, {});
    expect(r.reply.error).toBeDefined();
    expect(r.stderr).toMatch(new RegExp(`Could not reach http://127\\.0\\.0\\.1:${port} \\((ECONNREFUSED|ConnectionRefused)\\)`));
    expect(r.stderr).not.toContain("Internal error");
  }, 30_000);
});
