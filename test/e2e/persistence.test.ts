// Persistence of the compiled binary: secrets and revocations survive a restart, files are
// private, a SIGKILL loses no acknowledged write, and concurrent brokers lose nothing.
import { afterEach, describe, expect, it } from "bun:test";
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { body, connectBroker, tempHome, type Connected } from "./harness.ts";

const roots: string[] = [];
const connections: Connected[] = [];
const pids: number[] = [];

afterEach(async () => {
  await Promise.allSettled(connections.splice(0).map((c) => c.close()));
  for (const pid of pids.splice(0)) if (isRunning(pid)) process.kill(pid, "SIGKILL");
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A data dir that does not exist yet (the broker must create it), inside a temp root removed after the test. */
function freshHome(): string {
  const root = tempHome("mcb-persist-");
  roots.push(root);
  return join(root, "data");
}

async function connect(home: string, clientName = "persistence-e2e"): Promise<Connected> {
  const c = await connectBroker({ home, clientName });
  connections.push(c);
  pids.push(c.pid()!);
  return c;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `pid` has exited and been reaped (a zombie would still look alive to a lock check). */
async function waitForExit(pid: number): Promise<void> {
  for (let i = 0; i < 1_000 && isRunning(pid); i++) await Bun.sleep(10);
  if (isRunning(pid)) throw new Error(`broker pid ${pid} did not exit`);
}

/** Closes a client and waits for its broker process to be gone. */
async function stop(c: Connected): Promise<void> {
  const pid = c.pid()!;
  await c.close();
  await waitForExit(pid);
}

async function call(c: Connected, name: string, args: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const r = await c.client.callTool({ name, arguments: args });
  const b = body(r);
  if (r.isError) throw new Error(`${name} failed: ${b.error}`);
  return b;
}

async function listedNames(c: Connected): Promise<string[]> {
  return (await call(c, "list_secrets")).secrets.map((s: { name: string }) => s.name);
}

interface FileMode {
  path: string;
  kind: "dir" | "file";
  mode: string;
}

/** Every file and directory under `dir` (itself included) with its permission bits. */
function modes(dir: string): FileMode[] {
  const out: FileMode[] = [{ path: dir, kind: "dir", mode: (statSync(dir).mode & 0o777).toString(8) }];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...modes(p));
    else out.push({ path: p, kind: "file", mode: (statSync(p).mode & 0o777).toString(8) });
  }
  return out;
}

describe("broker persistence across restarts", () => {
  it("keeps secrets and revocations across a restart, in 0600 files and 0700 dirs", async () => {
    const home = freshHome();
    const value = "ghp_persist ✓ 密码 🔐\nsecond line";

    const first = await connect(home);
    await call(first, "store_secret", { name: "github-token", value });
    await call(first, "store_secret", { name: "team/deploy key", value: "deploy-value", tags: { env: "prod" } });
    const kept = (await call(first, "mint_token", { provider: "github", scopes: ["repo"] })).token;
    const revoked = (await call(first, "mint_token", { provider: "custom", scopes: ["read", "write"], resource: "https://api.example.com" })).token;
    expect((await call(first, "revoke_token", { token_id: revoked.tokenId })).success).toBe(true);
    expect((await call(first, "verify_token", { token: revoked.token })).valid).toBe(false);
    await stop(first);

    const second = await connect(home);
    const ref = (await call(second, "get_secret", { name: "github-token", purpose: "check persistence" })).reference;
    expect((await call(second, "resolve_secret", { reference_id: ref.id })).value).toBe(value);
    const listed = (await call(second, "list_secrets")).secrets;
    expect(listed.map((s: { name: string }) => s.name)).toEqual(["github-token", "team/deploy key"]);
    expect(listed[1].tags).toEqual({ env: "prod" });
    expect(JSON.stringify(listed)).not.toContain("ghp_persist");

    const afterRevoke = await call(second, "verify_token", { token: revoked.token });
    expect(afterRevoke.valid).toBe(false);
    expect(afterRevoke.reason).toMatch(/revoked/i);
    const stillGood = await call(second, "verify_token", { token: kept.token });
    expect(stillGood.valid).toBe(true);
    expect(stillGood.claims.jti).toBe(kept.tokenId);
    await stop(second);

    const all = modes(home);
    expect(all.filter((e) => e.kind === "file").map((e) => e.path.slice(home.length + 1))).toContain("secrets.jsonl");
    for (const e of all) expect(e).toEqual({ ...e, mode: e.kind === "dir" ? "700" : "600" });
  }, 60_000);

  it("keeps every acknowledged store_secret after SIGKILL of the binary in the middle of 200 calls", async () => {
    const home = freshHome();
    const broker = await connect(home);
    const pid = broker.pid()!;
    const total = 200;
    const killAt = 60;
    const acknowledged: string[] = [];
    const toolErrors: unknown[] = [];
    let sent = 0;
    let killed = false;

    // Eight calls in flight at a time, as a busy agent would send them.
    const worker = async () => {
      while (sent < total) {
        const name = `burst-${String(sent++).padStart(3, "0")}`;
        let r;
        try {
          r = await broker.client.callTool({ name: "store_secret", arguments: { name, value: `value-of-${name}` } });
        } catch {
          return; // the connection died with the broker
        }
        if (r.isError || body(r).success !== true) toolErrors.push(body(r));
        else acknowledged.push(name);
        if (!killed && acknowledged.length >= killAt) {
          killed = true;
          process.kill(pid, "SIGKILL");
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(killed).toBe(true);
    expect(toolErrors).toEqual([]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(killAt);
    expect(acknowledged.length).toBeLessThan(total);
    await waitForExit(pid);

    const again = await connect(home);
    const names = await listedNames(again);
    for (const n of acknowledged) expect(names).toContain(n);
    for (const n of names) expect(n).toMatch(/^burst-\d{3}$/);
    const sample = acknowledged[acknowledged.length - 1]!;
    const ref = (await call(again, "get_secret", { name: sample, purpose: "check after kill" })).reference;
    expect((await call(again, "resolve_secret", { reference_id: ref.id })).value).toBe(`value-of-${sample}`);
    // A lock the killed broker may have held does not block the next write.
    await call(again, "store_secret", { name: "after-kill", value: "ok" });
    expect(await listedNames(again)).toContain("after-kill");
  }, 120_000);

  it("keeps all 400 names when 4 brokers each store 100 at once", async () => {
    const home = freshHome();
    const brokers = await Promise.all([0, 1, 2, 3].map((i) => connect(home, `client-${i}`)));
    await Promise.all(
      brokers.map(async (b, i) => {
        for (let j = 0; j < 100; j++) await call(b, "store_secret", { name: `c${i}-${String(j).padStart(3, "0")}`, value: `v-${i}-${j}` });
      }),
    );
    const expected = [0, 1, 2, 3].flatMap((i) => Array.from({ length: 100 }, (_, j) => `c${i}-${String(j).padStart(3, "0")}`)).sort();
    // Each broker sees the others' writes (its cache follows the file), and so does a new one.
    for (const b of brokers) expect(await listedNames(b)).toEqual(expected);
    await Promise.all(brokers.map(stop));
    const fresh = await connect(home);
    expect(await listedNames(fresh)).toEqual(expected);
    const ref = (await call(fresh, "get_secret", { name: "c3-099", purpose: "check concurrent writes" })).reference;
    expect((await call(fresh, "resolve_secret", { reference_id: ref.id })).value).toBe("v-3-99");
  }, 120_000);
});
