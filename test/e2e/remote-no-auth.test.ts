// A remote MCP server without auth (issue 13, acceptance 2): the SDK's McpServer over
// Streamable HTTP on 127.0.0.1, with no metadata and no 401, used through the compiled
// binary's `connect` and `proxy` by the SDK's own Client — no sign-in, no browser (BROWSER
// is a command that records that it was started), and no login stored.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startRemoteMcp, type RemoteMcp } from "../fixtures/remote-mcp.ts";
import { freePort } from "../support/ports.ts";
import { connectCommand, runCli, spawnBroker, tempHome } from "./harness.ts";

let remote: RemoteMcp;
const dir = mkdtempSync(join(tmpdir(), "mcb-noauth-"));
/** A "browser" that leaves a mark: any sign-in attempt would be seen. */
const browser = join(dir, "browser.sh");
const opened = join(dir, "opened");

beforeAll(async () => {
  writeFileSync(browser, `#!/bin/sh\necho "$1" >> ${opened}\n`);
  chmodSync(browser, 0o755);
  // The issuer is never used: the server publishes no metadata and never answers 401.
  remote = await startRemoteMcp({ issuer: "http://127.0.0.1:9/unused", noAuth: true });
});
afterAll(() => remote?.stop());

function text(result: unknown): string {
  return (result as { content: { text: string }[] }).content[0]!.text;
}

describe("a remote MCP server without auth", () => {
  it("connect: the SDK Client lists and calls its tools with no sign-in, no browser and no stored login", async () => {
    const home = tempHome("mcb-noauth-connect-");
    const c = await connectCommand(["connect", remote.url], { home, env: { BROWSER: browser } });
    try {
      const { tools } = await c.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(["countdown", "echo"]);
      expect(text(await c.client.callTool({ name: "echo", arguments: { text: "hello" } }))).toBe("hello");
      expect(c.stderr()).not.toContain("Signing in");
    } finally {
      await c.client.close();
    }
    expect((await c.exited).signal).toBeNull();
    expect(existsSync(opened)).toBe(false);
    expect(remote.unauthorized).toBe(0);
    expect(remote.authorizations.every((a) => a === null)).toBe(true);
    const status = JSON.parse((await runCli(["status", "--json"], { home })).stdout) as { remote?: unknown[] };
    expect(status.remote ?? []).toEqual([]);
  }, 30_000);

  it("proxy: /mcp relays to it with no sign-in; the client's own Authorization header is still never forwarded", async () => {
    const home = tempHome("mcb-noauth-proxy-");
    const port = await freePort();
    const proc = spawnBroker(["proxy", "--upstream", remote.url, "--port", String(port)], { home, env: { BROWSER: browser }, stdin: "ignore" });
    const base = `http://127.0.0.1:${port}`;
    try {
      for (let i = 0; i < 100; i++) {
        if (await fetch(`${base}/health`).then((r) => r.ok).catch(() => false)) break;
        await Bun.sleep(50);
      }
      const before = remote.authorizations.length;
      const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { authorization: "Bearer client-own-token" } } });
      const client = new Client({ name: "e2e-noauth-proxy", version: "1.0.0" });
      await client.connect(transport);
      expect(text(await client.callTool({ name: "echo", arguments: { text: "through the proxy" } }))).toBe("through the proxy");
      await client.close();
      expect(remote.authorizations.slice(before).every((a) => a === null)).toBe(true);
      // Nothing to sign in to: /oauth/login says so instead of sending a browser anywhere.
      const login = await fetch(`${base}/oauth/login`, { redirect: "manual" });
      expect(login.status).not.toBe(302);
      expect(((await login.json()) as { error_description: string }).error_description).toContain("did not ask for a sign-in");
    } finally {
      proc.kill();
      await proc.exited;
    }
    expect(existsSync(opened)).toBe(false);
    expect(remote.unauthorized).toBe(0);
  }, 30_000);
});
