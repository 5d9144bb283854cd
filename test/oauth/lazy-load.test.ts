// Start-up cost: `serve` must not load oauth4webapi (or any OAuth flow code) until a tool
// needs it — cold start is benchmarked (bench/), and most sessions never log in.
import { expect, it } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");

it("building the runtime and the MCP server loads no OAuth library", () => {
  const script = `
    const { openRuntime } = await import(${JSON.stringify(`${root}/src/runtime.ts`)});
    const { loadConfig } = await import(${JSON.stringify(`${root}/src/config.ts`)});
    const { createMcpServer } = await import(${JSON.stringify(`${root}/src/mcp/server.ts`)});
    const rt = await openRuntime({ storeFlag: "memory", config: loadConfig({ MCB_HOME: ${JSON.stringify(mkdtempSync(join(tmpdir(), "mcb-lazy-")))} }) });
    createMcpServer(rt.broker, "0", rt.log);
    console.log(JSON.stringify(Object.keys(require.cache)));
  `;
  const p = Bun.spawnSync([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
  expect(p.exitCode).toBe(0);
  const loaded = JSON.parse(p.stdout.toString()) as string[];
  expect(loaded.some((k) => k.includes("src/mcp/server.ts"))).toBe(true);
  expect(loaded.filter((k) => /oauth4webapi|\/jose\//.test(k))).toEqual([]);
  // Nothing from src/oauth: the expiry rules the core checks on every get_secret live in src/core.
  expect(loaded.filter((k) => k.includes("/src/oauth/"))).toEqual([]);
  // Remote servers (proxy, connect) and the SDK's HTTP transports are theirs alone.
  expect(loaded.filter((k) => k.includes("/src/remote/") || /sdk\/dist\/esm\/(client|server\/streamableHttp)/.test(k))).toEqual([]);
});
