// Process lifecycle of the compiled binary: it exits 0 when stdin closes and on SIGTERM/SIGINT,
// losing nothing acknowledged; and it ignores a `.env` / `bunfig.toml` in its working directory.
import { describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ARGV_LEDGER, body, connectBroker, jsonLineReader, readOr, runCli, spawnBroker, tempHome, withoutFallbackWarning } from "./harness.ts";

const canary = () => `CANARY-${randomUUID()}`;
/** Generous: a deadline so a hung broker fails the test instead of hanging it, not a speed check. */
const EXIT_DEADLINE_MS = 10_000;

type Proc = ReturnType<typeof spawnBroker>;

/** A minimal JSON-RPC peer over the broker's stdio: tests here need to close stdin or signal at exact points. */
function rawPeer(proc: Proc) {
  const lines = jsonLineReader(proc.stdout);
  return {
    write(...messages: object[]) {
      proc.stdin!.write(messages.map((m) => `${JSON.stringify(m)}\n`).join(""));
      proc.stdin!.flush();
    },
    /** The next message, or null at end of stdout. */
    read: (): Promise<Record<string, any> | null> => lines.next(),
    async readAll(): Promise<Record<string, any>[]> {
      const all: Record<string, any>[] = [];
      for (let m = await this.read(); m; m = await this.read()) all.push(m);
      return all;
    },
  };
}

const initialize = (clientName: string) => ({
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: clientName, version: "1.0.0" } },
});
const initialized = { jsonrpc: "2.0", method: "notifications/initialized" };
const storeCall = (id: number, name: string, value: string) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "store_secret", arguments: { name, value } } });

/** Waits for the process to exit, killing it and failing if it outlives the deadline. */
async function exitCode(proc: Proc): Promise<number> {
  const timedOut = Symbol("timeout");
  const r = await Promise.race([proc.exited, Bun.sleep(EXIT_DEADLINE_MS).then(() => timedOut)]);
  if (r === timedOut) {
    proc.kill("SIGKILL");
    throw new Error(`broker still running ${EXIT_DEADLINE_MS} ms after it was asked to stop`);
  }
  expect(proc.signalCode).toBeNull();
  return r as number;
}

function auditLines(home: string): Record<string, any>[] {
  return readOr(join(home, "audit.jsonl"))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Asserts a fresh process reads the value back from MCB_HOME, and the store was audited. */
async function expectPersisted(home: string, name: string, value: string, client: string) {
  const got = await runCli(["secret", "get", name], { home });
  expect(got.code).toBe(0);
  expect(got.stdout).toBe(value);
  expect(auditLines(home)).toContainEqual(expect.objectContaining({ event: "store", name, client, outcome: "ok", time: expect.any(String) }));
}

describe("shutdown", () => {
  it("exits 0 when stdin closes before anything was sent", async () => {
    const proc = spawnBroker([], { home: tempHome() });
    proc.stdin!.end();
    expect(await exitCode(proc)).toBe(0);
    // Only the store-fallback warning (no D-Bus session here, see harness.ts) may be printed.
    expect(withoutFallbackWarning(await new Response(proc.stderr).text())).toBe("");
  });

  it("exits 0 when stdin closes, keeping a store_secret sent just before and answering it", async () => {
    const home = tempHome();
    const proc = spawnBroker([], { home });
    const peer = rawPeer(proc);
    peer.write(initialize("lifecycle-stdin"));
    expect((await peer.read())?.id).toBe(0);
    const value = canary();
    // The call and the end of stdin leave together: the broker must finish the call before it exits.
    peer.write(initialized, storeCall(1, "last-words", value));
    proc.stdin!.end();
    const rest = await peer.readAll();
    expect(await exitCode(proc)).toBe(0);
    expect(rest).toContainEqual(expect.objectContaining({ id: 1, result: expect.objectContaining({ structuredContent: { success: true, message: expect.any(String) } }) }));
    await expectPersisted(home, "last-words", value, "lifecycle-stdin");
  });

  it("on stdin close, finishes a store_secret still waiting for the store lock before exiting", async () => {
    const home = tempHome();
    // Hold the file store's lock as a live process would, so the broker's write has to wait.
    const lock = join(home, "secrets.lock");
    writeFileSync(lock, `${process.pid} ${Date.now()}\n`);
    const proc = spawnBroker([], { home });
    const peer = rawPeer(proc);
    peer.write(initialize("lifecycle-locked"));
    expect((await peer.read())?.id).toBe(0);
    const value = canary();
    peer.write(initialized, storeCall(1, "waited-for", value));
    proc.stdin!.end();
    // Ordering only, not a speed check: give the broker a moment to start the call and see
    // stdin end, then release the lock. A slower machine makes this test pass vacuously; it
    // fails only if the broker exits without waiting for the call in flight.
    await Bun.sleep(300);
    unlinkSync(lock);
    const rest = await peer.readAll();
    expect(await exitCode(proc)).toBe(0);
    expect(rest).toContainEqual(expect.objectContaining({ id: 1, result: expect.objectContaining({ structuredContent: { success: true, message: expect.any(String) } }) }));
    await expectPersisted(home, "waited-for", value, "lifecycle-locked");
  });

  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    it(`exits 0 on ${signal}, with an acknowledged store_secret on disk and audited`, async () => {
      const home = tempHome();
      const proc = spawnBroker([], { home });
      const peer = rawPeer(proc);
      peer.write(initialize(`lifecycle-${signal}`));
      expect((await peer.read())?.id).toBe(0);
      const value = canary();
      peer.write(initialized, storeCall(1, "signalled", value));
      expect((await peer.read())?.result?.structuredContent?.success).toBe(true);
      proc.kill(signal);
      expect(await exitCode(proc)).toBe(0);
      await expectPersisted(home, "signalled", value, `lifecycle-${signal}`);
    });
  }

  it("exits 0 when the SDK client closes the connection", async () => {
    const home = tempHome();
    const b = await connectBroker({ home, clientName: "lifecycle-sdk" });
    const value = canary();
    expect(body(await b.client.callTool({ name: "store_secret", arguments: { name: "sdk-close", value } })).success).toBe(true);
    const pid = b.pid()!;
    const exited = new Promise<void>((r) => {
      const clientOnClose = b.transport.onclose;
      b.transport.onclose = () => {
        clientOnClose?.();
        r();
      };
    });
    await b.close();
    await exited;
    // The SDK escalates to SIGTERM after 2 s; either way the process must be gone now.
    expect(() => process.kill(pid, 0)).toThrow();
    await expectPersisted(home, "sdk-close", value, "lifecycle-sdk");
  });
});

describe("a hostile working directory", () => {
  /** A cwd an MCP client might start us in: a `.env`, a `.env.local` and a `bunfig.toml` with a preload. */
  function hostileCwd() {
    const cwd = mkdtempSync(join(tmpdir(), "mcb-hostile-cwd-"));
    const marker = join(cwd, "PRELOAD-RAN");
    writeFileSync(join(cwd, ".env"), `JWT_SECRET=${"s".repeat(48)}\nMCB_STORE=memory\n`);
    writeFileSync(join(cwd, ".env.local"), "MCB_DEBUG=1\nMCB_STORE=memory\n");
    writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./evil.ts"]\n\n[run]\npreload = ["./evil.ts"]\n');
    writeFileSync(join(cwd, "evil.ts"), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran");\n`);
    return { cwd, marker };
  }

  it("serves with ES256 and the file store, loading neither .env nor bunfig.toml", async () => {
    const { cwd, marker } = hostileCwd();
    const home = tempHome();
    const b = await connectBroker({ home, cwd, clientName: "hostile-cwd" });
    const value = canary();
    try {
      const minted = body(await b.client.callTool({ name: "mint_token", arguments: { provider: "github", scopes: ["repo"] } }));
      const header = JSON.parse(Buffer.from(minted.token.token.split(".")[0], "base64url").toString());
      expect(header.alg).toBe("ES256");
      expect(body(await b.client.callTool({ name: "store_secret", arguments: { name: "not-in-memory", value } })).success).toBe(true);
    } finally {
      await b.close();
    }
    // A memory store (MCB_STORE=memory from .env) would have lost it with the process.
    await expectPersisted(home, "not-in-memory", value, "hostile-cwd");
    expect(existsSync(marker)).toBe(false);
    // MCB_DEBUG=1 from .env.local would have logged "debug: stopping" on the way out.
    expect(b.stderr()).not.toContain("debug:");
    expect(readdirSync(cwd).sort()).toEqual([".env", ".env.local", "bunfig.toml", "evil.ts"]);
  });

  it("runs CLI commands there with the same configuration", async () => {
    const { cwd, marker } = hostileCwd();
    const home = tempHome();
    const status = await runCli(["status", "--json"], { home, cwd });
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s.store.backend).toBe("file");
    expect(s.tokenSigning).toMatch(/^ES256/);
    const minted = await runCli(["token", "mint", "aws", "--scope", "s3:read", "--json"], { home, cwd });
    expect(minted.code).toBe(0);
    expect(JSON.parse(Buffer.from(JSON.parse(minted.stdout).token.split(".")[0], "base64url").toString()).alg).toBe("ES256");
    expect(existsSync(marker)).toBe(false);
  });
});

// Runs last in this file: no secret value of this suite (CANARY-<uuid>) reached a command line.
it("put no CANARY- value on any command line recorded in the argv ledger", () => {
  expect(readOr(ARGV_LEDGER)).not.toMatch(/CANARY-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
});
