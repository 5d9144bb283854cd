// The compiled binary under real store, audit and revocation faults: writers SIGKILLed at
// random moments in a mix of store, audit and revocation writes beside a long-running broker,
// brokers themselves SIGKILLed mid-operation, a full disk (tmpfs) during every kind of write,
// damaged and truncated files, a read-only data dir (a read-only bind mount: chmod does not
// stop root), environment mistakes (MCB_HOME a file, secrets.jsonl a directory, a data dir
// others can write, a planted symbolic link), and output to readers that are slow or gone.
// What must hold: nothing acknowledged is lost, no process ends by a signal we did not send,
// and every refusal is one clear line that says what to do.
import { afterEach, describe, expect, it } from "bun:test";
import type { Subprocess } from "bun";
import { spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { FileRevocationList } from "../../src/files/revocation-list.ts";
import { FileStore } from "../../src/store/file.ts";
import { codeOf } from "../support/broker-error.ts";
import { fillDisk, mountTmpfs, readOnlyView, skipMounts, unmountAll } from "../store/fault-mounts.ts";
import { faultValue } from "../store/fault-writer.ts";
import { body, brokerEnv, connectCommand, requireBinary, runCli, spawnBroker, tempHome, withoutFallbackWarning, type ConnectedCommand } from "./harness.ts";
import { readLines } from "../support/child-lines.ts";

const WRITER = resolve(import.meta.dir, "../store/fault-writer.ts");
const FILE = { MCB_STORE: "file" };

const homes: string[] = [];
const brokers: ConnectedCommand[] = [];
const children: Subprocess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const b of brokers.splice(0)) if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill("SIGKILL");
  unmountAll();
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

function home(): string {
  const h = tempHome("mcb-store-faults-");
  homes.push(h);
  return h;
}

async function serve(h: string, env: Record<string, string> = FILE): Promise<ConnectedCommand> {
  const b = await connectCommand([], { home: h, env, clientName: "store-faults-e2e" });
  brokers.push(b);
  return b;
}

async function call(b: ConnectedCommand, name: string, args: Record<string, unknown> = {}): Promise<{ isError: boolean; body: Record<string, any> }> {
  const r = await b.client.callTool({ name, arguments: args });
  return { isError: r.isError === true, body: body(r) };
}

/** Closes the client and returns how the broker ended: it must be by itself, never by a signal. */
async function stop(b: ConnectedCommand): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  await b.client.close();
  return b.exited;
}

/** stderr of a CLI run without the keychain fallback warning (the e2e brokers run without a D-Bus session). */
const err = (r: { stderr: string }) => withoutFallbackWarning(r.stderr);

function spawnWriter(args: string[]): Subprocess<"pipe", "pipe", "pipe"> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("MCB_")) env[k] = v;
  const p = Bun.spawn([process.execPath, WRITER, ...args], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env });
  children.push(p);
  return p;
}

/** Every line of a one-line refusal: `error: …`, no stack trace, no "Internal error". */
function expectOneLineError(stderr: string, pattern: RegExp): void {
  expect(stderr.trimEnd()).toMatch(pattern);
  expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(stderr).not.toContain("Internal error");
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe("a long-running broker and writers SIGKILLed mid-write", () => {
  it("a broker that looked at the store under a second ago lands its store_secret after a writer killed inside its write(2)", async () => {
    let torn = 0;
    for (let attempt = 0; attempt < 8 && torn === 0; attempt++) {
      const h = home();
      const path = join(h, "secrets.jsonl");
      const p = spawnWriter(["big", h, String(48 * 1024 * 1024)]);
      const ready = Promise.withResolvers<void>();
      const lines = readLines(p.stdout, (l) => l === "ready" && ready.resolve());
      await ready.promise;
      const b = await serve(h);
      expect((await call(b, "list_secrets")).isError).toBe(false); // the broker has just read the store
      const sizeBefore = statSync(path).size;
      p.stdin.write("go\n");
      p.stdin.flush();
      const deadline = Date.now() + 10_000;
      while (statSync(path).size === sizeBefore && Date.now() < deadline) {
        /* spin: kill as the big line starts to land */
      }
      p.kill("SIGKILL");
      await p.exited;
      await lines;
      if (readFileSync(path).at(-1) === 0x0a) {
        await stop(b);
        continue; // the kill missed the write(2): again
      }
      torn++;
      const stored = await call(b, "store_secret", { name: "after", value: "after-value" });
      expect(stored).toMatchObject({ isError: false, body: { success: true } });
      const got = await runCli(["secret", "get", "after"], { home: h, env: FILE });
      expect({ code: got.code, stdout: got.stdout }).toEqual({ code: 0, stdout: "after-value" });
      expect(await stop(b)).toEqual({ code: 0, signal: null });
    }
    expect(torn).toBe(1);
  }, 120_000);

  it("160 SIGKILLs at random moments in store, audit and revocation writes, a broker storing between them: nothing acknowledged is lost, and the broker never dies", async () => {
    const h = home();
    const b = await serve(h);
    const stored = new Set<string>();
    const audited = new Set<string>();
    const revoked = new Set<string>();
    let tornTails = 0;
    for (let round = 0; round < 160; round++) {
      const p = spawnWriter(["mixed", h, `w${round}`]);
      const lines = readLines(p.stdout, (l) => {
        if (l.startsWith("audit ")) audited.add(l.slice(6));
        else if (l.startsWith("revoke ")) revoked.add(l.slice(7));
        else stored.add(l);
      });
      await Bun.sleep(20 + Math.random() * 120);
      p.kill("SIGKILL");
      await p.exited;
      await lines;
      expect(p.signalCode).toBe("SIGKILL");
      if (existsSync(join(h, "secrets.jsonl")) && readFileSync(join(h, "secrets.jsonl")).at(-1) !== 0x0a) tornTails++;
      const name = `broker-${round}`;
      const r = await call(b, "store_secret", { name, value: faultValue(name, 200) });
      expect({ name, ...r }).toMatchObject({ name, isError: false, body: { success: true } });
      stored.add(name);
    }
    expect(await stop(b)).toEqual({ code: 0, signal: null });
    // A fresh process that writes the log chains every killed writer's write-ahead lines first.
    expect((await runCli(["secret", "set", "final"], { home: h, env: FILE, input: "final-value" })).code).toBe(0);

    const listed = await runCli(["secret", "list", "--json"], { home: h, env: FILE });
    expect(listed.code).toBe(0);
    const names = new Set((JSON.parse(listed.stdout) as { name: string }[]).map((e) => e.name));
    expect([...stored].filter((n) => !names.has(n))).toEqual([]);
    // Every value whole: read them through the store code the binary is built from.
    const fresh = new FileStore({ dir: h });
    for (const n of stored) {
      const v = (await fresh.get(n))!.value;
      // Named on failure: which value, how long, how it starts (never more than its head).
      expect({ n, whole: v.startsWith(`value-of-${n}:`) && v.length === Number(v.split(":")[1]), length: v.length, head: v.slice(0, 40) }).toMatchObject({ n, whole: true });
    }
    // Every acknowledged audit line is in the chain, which verifies under the store's key.
    const lines = JSON.parse((await runCli(["audit", "--json"], { home: h, env: FILE })).stdout) as { event: string; name?: string }[];
    const inChain = new Set(lines.filter((l) => l.event === "resolve").map((l) => l.name));
    expect([...audited].filter((n) => !inChain.has(n))).toEqual([]);
    expect(readdirSync(h).filter((n) => n.startsWith("audit.jsonl.pending."))).toEqual([]);
    const verify = await runCli(["audit", "--verify", "--json"], { home: h, env: FILE });
    expect({ code: verify.code, ok: JSON.parse(verify.stdout).ok, pending: JSON.parse(verify.stdout).pending }).toEqual({ code: 0, ok: true, pending: 0 });
    // Every acknowledged revocation is recorded.
    const revocations = new FileRevocationList(join(h, "revoked.jsonl"), Date.now);
    expect([...revoked].filter((j) => !revocations.has(j))).toEqual([]);
    expect(Math.min(stored.size, audited.size, revoked.size)).toBeGreaterThan(20);
    process.stderr.write(`store faults (e2e): 160 SIGKILLs; kept ${stored.size} stores, ${audited.size} audit lines, ${revoked.size} revocations; ${tornTails} torn store tails\n`);
  }, 180_000);
});

/** A broker on raw JSON-RPC over stdio (no SDK: quick to start, so many can be killed). */
async function rawBroker(h: string) {
  const p = spawnBroker([], { home: h, env: FILE });
  children.push(p);
  const stdin = p.stdin as import("bun").FileSink;
  let closed = false;
  const waiting = new Map<number, (m: { result?: any; error?: unknown }) => void>();
  void readLines(p.stdout, (l) => {
    const m = JSON.parse(l) as { id?: number; result?: any; error?: unknown };
    if (typeof m.id === "number") waiting.get(m.id)?.(m);
  }).finally(() => {
    // Killed: whatever was not answered never will be.
    closed = true;
    for (const answer of waiting.values()) answer({ error: "killed" });
  });
  /** Writes one message; false once the broker is gone (EPIPE, sync or from the flush). */
  const send = (msg: unknown): boolean => {
    try {
      // Once the broker is killed, Bun reports EPIPE through the promises write and flush may return.
      void Promise.resolve(stdin.write(`${JSON.stringify(msg)}\n`)).catch(() => {});
      void Promise.resolve(stdin.flush()).catch(() => {});
      return true;
    } catch {
      return false;
    }
  };
  let id = 0;
  const request = (method: string, params: unknown): Promise<{ result?: any; error?: unknown }> => {
    const i = ++id;
    // Answered on a later turn, so a loop of calls to a killed broker still lets timers and exits run.
    if (closed) return new Promise((r) => setImmediate(() => r({ error: "killed" })));
    const answer = new Promise<{ result?: any; error?: unknown }>((r) => waiting.set(i, r));
    if (!send({ jsonrpc: "2.0", id: i, method, params })) waiting.get(i)?.({ error: "killed" });
    return answer;
  };
  await request("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "kill-test", version: "1" } });
  send({ jsonrpc: "2.0", method: "notifications/initialized" });
  /** A tool's JSON result, or null when it was an error. */
  const tool = async (name: string, args: Record<string, unknown>) => {
    const m = await request("tools/call", { name, arguments: args });
    return m.result && !m.result.isError ? (JSON.parse(m.result.content[0].text) as Record<string, any>) : null;
  };
  return { p, tool };
}

describe("the broker itself SIGKILLed mid-operation", () => {
  it("40 brokers killed at random moments while storing, resolving and revoking: every answered call's change and audit line survive", async () => {
    const h = home();
    const stored = new Map<string, string>();
    const resolvedRefs: string[] = [];
    const revoked: string[] = [];
    for (let round = 0; round < 40; round++) {
      const { p, tool } = await rawBroker(h);
      let stop = false;
      const work = (async () => {
        for (let i = 0; !stop; i++) {
          const name = `b${round}-${i}`;
          const value = faultValue(name, 100 + Math.floor(Math.random() * 4000));
          if ((await tool("store_secret", { name, value }))?.success) stored.set(name, value);
          if (i % 2 === 1) {
            const ref = await tool("get_secret", { name, purpose: "kill test" });
            const got = ref && (await tool("resolve_secret", { reference_id: ref.reference.id }));
            if (got?.value === value) resolvedRefs.push(ref!.reference.id);
          }
          if (i % 4 === 3) {
            const minted = await tool("mint_token", { provider: "github", scopes: ["repo"] });
            if (minted && (await tool("revoke_token", { token_id: minted.token.tokenId }))?.success) revoked.push(minted.token.tokenId);
          }
        }
      })().catch(() => {}); // the kill ends it
      await Bun.sleep(30 + Math.random() * 120);
      stop = true;
      p.kill("SIGKILL");
      await p.exited;
      await work;
      expect(p.signalCode).toBe("SIGKILL");
    }
    // The next process that writes the log chains the killed brokers' write-ahead lines.
    expect((await runCli(["secret", "set", "final"], { home: h, env: FILE, input: "final-value" })).code).toBe(0);
    const fresh = new FileStore({ dir: h });
    for (const [n, v] of stored) expect({ n, v: (await fresh.get(n))?.value }).toEqual({ n, v });
    const lines = JSON.parse((await runCli(["audit", "--json"], { home: h, env: FILE })).stdout) as { event: string; name?: string; reference?: string; outcome: string }[];
    const storeLines = new Set(lines.filter((l) => l.event === "store").map((l) => l.name));
    expect([...stored.keys()].filter((n) => !storeLines.has(n))).toEqual([]);
    const resolveLines = new Set(lines.filter((l) => l.event === "resolve" && l.outcome === "ok").map((l) => l.reference));
    expect(resolvedRefs.filter((r) => !resolveLines.has(r))).toEqual([]);
    const revocations = new FileRevocationList(join(h, "revoked.jsonl"), Date.now);
    expect(revoked.filter((j) => !revocations.has(j))).toEqual([]);
    const verify = await runCli(["audit", "--verify", "--json"], { home: h, env: FILE });
    expect({ code: verify.code, ok: JSON.parse(verify.stdout).ok }).toEqual({ code: 0, ok: true });
    expect(stored.size).toBeGreaterThan(40);
    process.stderr.write(`store faults (broker killed): 40 SIGKILLs; kept ${stored.size} stores, ${resolvedRefs.length} resolve lines, ${revoked.length} revocations\n`);
  }, 120_000);
});

describe.skipIf(skipMounts)("a full disk (tmpfs)", () => {
  it("store_secret is refused as 'disk is full', the broker keeps serving, nothing acknowledged is lost, and the next write after space is freed lands", async () => {
    const root = mountTmpfs("512k");
    const h = join(root, "home");
    const b = await serve(h);
    expect((await call(b, "store_secret", { name: "a", value: "value-a" })).isError).toBe(false);
    const ref = await call(b, "get_secret", { name: "a", purpose: "full disk" });
    const minted = await call(b, "mint_token", { provider: "github", scopes: ["repo"] });
    expect([ref.isError, minted.isError]).toEqual([false, false]);
    const filler = fillDisk(root);
    const refused = await call(b, "store_secret", { name: "big", value: "x".repeat(60_000) });
    expect(refused.isError).toBe(true);
    expect(refused.body.error).toMatch(/ENOSPC \(the disk is full: free some space, then retry\)/);
    // A value and a revocation need their audit line (and the revocation its own line) on disk
    // first: each is either refused saying the disk is full, or done with its line on disk (the
    // write-ahead file may still have room in its last page).
    const onDisk = () => readdirSync(h).filter((n) => n === "audit.jsonl" || n.startsWith("audit.jsonl.pending.")).map((n) => readFileSync(join(h, n), "utf8")).join("");
    const resolved = await call(b, "resolve_secret", { reference_id: ref.body.reference.id });
    if (resolved.isError) expect(resolved.body.error).toMatch(/ENOSPC \(the disk is full: free some space, then retry\)/);
    else expect(onDisk()).toContain(`"event":"resolve","reference":"${ref.body.reference.id}"`);
    const revoked = await call(b, "revoke_token", { token_id: minted.body.token.tokenId });
    if (revoked.isError) expect(revoked.body.error).toMatch(/ENOSPC \(the disk is full: free some space, then retry\)/);
    else expect(new FileRevocationList(join(h, "revoked.jsonl"), Date.now).has(minted.body.token.tokenId)).toBe(true);
    // From the CLI, another process with no page of its own left: refused in one line.
    const revokeCli = await runCli(["token", "revoke", "tok_0123456789abcdef"], { home: h, env: FILE });
    expect(revokeCli.code).toBe(1);
    expectOneLineError(err(revokeCli), /^error: .*ENOSPC \(the disk is full: free some space, then retry\)/);
    // Still serving: the next call is answered (refused too while the disk is full: the audit log fails closed).
    const next = await call(b, "list_secrets");
    expect(typeof next.isError).toBe("boolean");
    // From the CLI, another process: a clear one-line refusal, no signal.
    const cli = await runCli(["secret", "set", "cli"], { home: h, env: FILE, input: "y".repeat(60_000) });
    expect(cli.code).toBe(1);
    expectOneLineError(err(cli), /^error: .*(disk is full|ENOSPC)/);
    expect(await stop(b)).toEqual({ code: 0, signal: null });

    unlinkSync(filler);
    const again = await serve(h);
    expect((await call(again, "store_secret", { name: "after", value: "value-after" })).isError).toBe(false);
    expect(await stop(again)).toEqual({ code: 0, signal: null });
    for (const [n, v] of [["a", "value-a"], ["after", "value-after"]] as const) {
      const got = await runCli(["secret", "get", n], { home: h, env: FILE });
      expect({ n, code: got.code, stdout: got.stdout }).toEqual({ n, code: 0, stdout: v });
    }
    const listed = await runCli(["secret", "list", "--json"], { home: h, env: FILE });
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((e) => e.name).sort()).toEqual(["a", "after"]);
  }, 60_000);

  it("secret set on a nearly full disk: exit 0 exactly when the secret is stored and its audit line written; exit 1 means nothing stored", async () => {
    // With 0 to 3 pages left, the disk runs out at a different step each time: the audit
    // intent line, the lock files, the fingerprint key, the store's line. Whatever the step,
    // the answer must match what is on disk: never "stored, but exit 1", never stored unaudited.
    const HEADER = JSON.stringify({ format: "mcp-credentials-broker/secrets-log", version: 1 });
    const outcomes = new Set<string>();
    for (const fresh of [true, false]) {
      for (let pages = 0; pages <= 3; pages++) {
        const root = mountTmpfs("256k");
        const h = join(root, "home");
        mkdirSync(h, { mode: 0o700 });
        if (fresh) writeFileSync(join(h, "secrets.jsonl"), `${HEADER}\n`, { mode: 0o600 }); // no fingerprint key yet
        else expect((await runCli(["secret", "set", "seed"], { home: h, env: FILE, input: "seed-value" })).code).toBe(0);
        fillDisk(root, "filler", pages);
        const r = await runCli(["secret", "set", "x"], { home: h, env: FILE, input: "value-x" });
        const stored = new FileStore({ dir: h }).get("x").then((rec) => rec?.value ?? null, () => "unreadable");
        // On disk in the chain, or still in the process's write-ahead file (chained by the next broker).
        const audit = readdirSync(h).filter((n) => n === "audit.jsonl" || n.startsWith("audit.jsonl.pending.")).map((n) => readFileSync(join(h, n), "utf8")).join("");
        const audited = audit.split("\n").some((l) => l.includes('"event":"store"') && l.includes('"name":"x"') && /"outcome":"(intent|ok)"/.test(l));
        const seen = { fresh, pages, code: r.code, stored: await stored, audited };
        if (r.code === 0) expect(seen).toEqual({ fresh, pages, code: 0, stored: "value-x", audited: true });
        else {
          expect(seen).toEqual({ fresh, pages, code: 1, stored: null, audited: seen.audited });
          expectOneLineError(err(r), /^error: .*(ENOSPC|disk is full)/);
        }
        outcomes.add(r.code === 0 ? "stored" : "refused");
        unmountAll();
      }
    }
    expect([...outcomes].sort()).toEqual(["refused", "stored"]); // both ends were reached
  }, 60_000);

  it("a broker started on a disk that is already full refuses writes with an error, and does not die by SIGBUS", async () => {
    const root = mountTmpfs("256k");
    const h = join(root, "home");
    mkdirSync(h, { mode: 0o700 });
    fillDisk(root);
    const cli = await runCli(["secret", "set", "x"], { home: h, env: FILE, input: "v" });
    expect(cli.code).toBe(1);
    expectOneLineError(err(cli), /^error: .*ENOSPC \(the disk is full: free some space, then retry\)/);
  });
});

describe("damaged and truncated files", () => {
  async function seed(h: string, names: string[]): Promise<void> {
    for (const n of names) expect((await runCli(["secret", "set", n], { home: h, env: FILE, input: `value-${n}` })).code).toBe(0);
  }

  it("a damaged line in the middle: every command refuses with STORE_CORRUPT naming the line, and no delete compacts it away", async () => {
    const h = home();
    await seed(h, ["a", "b", "c"]);
    const path = join(h, "secrets.jsonl");
    const lines = readFileSync(path, "utf8").split("\n");
    const i = lines.findIndex((l) => l.includes('"set":"b"'));
    lines[i] = lines[i]!.replace('"value":', '"value"');
    const damaged = lines.join("\n");
    writeFileSync(path, damaged);
    for (const args of [["secret", "list"], ["secret", "get", "a"], ["secret", "rm", "c"], ["secret", "set", "d"]]) {
      const r = await runCli(args, { home: h, env: FILE, input: "value-d" });
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expectOneLineError(err(r), new RegExp(`^error: ${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is damaged at line ${i + 1}: the line is not JSON\\. .*move it aside`));
    }
    expect(readFileSync(path, "utf8")).toBe(damaged);
    const b = await serve(h);
    const listed = await call(b, "list_secrets");
    expect(listed.isError).toBe(true);
    expect(listed.body.error).toContain(`damaged at line ${i + 1}`);
    expect((await call(b, "delete_secret", { name: "a" })).isError).toBe(true);
    expect(await stop(b)).toEqual({ code: 0, signal: null });
    expect(readFileSync(path, "utf8")).toBe(damaged);
  }, 60_000);

  it("a file cut in its last line: the cut record is gone, the rest is served, and the next write keeps the cut bytes aside", async () => {
    const h = home();
    await seed(h, ["a", "b", "c"]);
    const path = join(h, "secrets.jsonl");
    const raw = readFileSync(path, "utf8");
    const lastStart = raw.lastIndexOf("\n", raw.length - 2) + 1;
    const cutAt = lastStart + Math.floor((raw.length - lastStart) / 2);
    truncateSync(path, cutAt);
    const cutBytes = raw.slice(lastStart, cutAt);
    const listed = await runCli(["secret", "list", "--json"], { home: h, env: FILE });
    expect(listed.code).toBe(0);
    const before = (JSON.parse(listed.stdout) as { name: string }[]).map((e) => e.name).filter((n) => !n.startsWith("mcb-internal:"));
    expect((await runCli(["secret", "set", "d"], { home: h, env: FILE, input: "value-d" })).code).toBe(0);
    const after = await runCli(["secret", "list", "--json"], { home: h, env: FILE });
    expect((JSON.parse(after.stdout) as { name: string }[]).map((e) => e.name).sort()).toEqual([...before, "d"].sort());
    const aside = readdirSync(h).filter((n) => n.startsWith("secrets.jsonl.torn-"));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(h, aside[0]!), "utf8")).toBe(`${cutBytes}\n`);
    expect(statSync(join(h, aside[0]!)).mode & 0o777).toBe(0o600);
  }, 60_000);
});

describe("environment mistakes are named with what to do", () => {
  it("MCB_HOME is a file (or inside one)", async () => {
    const h = home();
    const file = join(h, "not-a-dir");
    writeFileSync(file, "x");
    for (const mcbHome of [file, join(file, "sub")]) {
      const r = await runCli(["secret", "list"], { home: mcbHome, env: FILE });
      expect(r.code).toBe(1);
      expectOneLineError(err(r), new RegExp(`^error: The data directory .* cannot be created: ${file} is a file, not a directory\\. Move that file aside, or set MCB_HOME to a directory\\.$`));
    }
  });

  it("secrets.jsonl is a directory", async () => {
    const h = home();
    mkdirSync(join(h, "secrets.jsonl"));
    for (const args of [["secret", "list"], ["secret", "set", "a"]]) {
      const r = await runCli(args, { home: h, env: FILE, input: "v" });
      expect(r.code).toBe(1);
      expectOneLineError(err(r), /^error: Cannot read .*secrets\.jsonl: EISDIR \(it is a directory where a file belongs: move that directory aside\)\.$/);
    }
  });

  // POSIX modes and owners: on Windows, ACLs govern the data dir and the check is skipped (src/files/data-files.ts).
  it.skipIf(process.platform === "win32")("a data dir writable by others, or owned by another user, is refused with the fix; doctor says why", async () => {
    const h = home();
    expect((await runCli(["secret", "set", "a"], { home: h, env: FILE, input: "value-a" })).code).toBe(0);
    chmodSync(h, 0o777);
    for (const args of [["secret", "list"], ["secret", "get", "a"], ["audit"]]) {
      const r = await runCli(args, { home: h, env: FILE });
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 1, stdout: "" });
      expectOneLineError(err(r), new RegExp(`^error: The data directory ${h.replace(/[.*+?^\${}()|[\]\\/]/g, "\\$&")} is writable by other users \\(mode 0777\\): they could plant files the broker reads or links it writes through\\. Run: chmod 700 `));
    }
    const doctor = await runCli(["doctor"], { home: h, env: FILE });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/fail\s+data dir\s+.* is writable by other users \(mode 0777\): the broker refuses to use it\n\s+fix: chmod 700 /);
    chmodSync(h, 0o700);
    if (process.getuid?.() === 0) {
      chownSync(h, 65534, 65534);
      const r = await runCli(["secret", "list"], { home: h, env: FILE });
      expect(r.code).toBe(1);
      expectOneLineError(err(r), /^error: The data directory .* belongs to uid 65534, not to you \(uid 0\): .* run: chown -R 0 /);
      chownSync(h, 0, 0);
    }
    expect((await runCli(["secret", "get", "a"], { home: h, env: FILE })).stdout).toBe("value-a");
  });

  // Windows: creating a link needs a privilege; the Windows way of refusing one runs in test/files/data-files.test.ts.
  it.skipIf(process.platform === "win32")("a symbolic link planted for audit.jsonl, secrets.jsonl or revoked.jsonl is refused, never followed", async () => {
    for (const [file, args] of [
      ["audit.jsonl", ["audit"]],
      ["secrets.jsonl", ["secret", "list"]],
      ["revoked.jsonl", ["token", "revoke", "tok_0123456789abcdef"]],
    ] as const) {
      const h = home();
      expect((await runCli(["secret", "set", "a"], { home: h, env: FILE, input: "value-a" })).code).toBe(0);
      const victim = join(h, "..", `${file}.victim-${Date.now()}`);
      writeFileSync(victim, "VICTIM\n");
      homes.push(victim);
      rmSync(join(h, file), { force: true });
      symlinkSync(victim, join(h, file));
      const r = await runCli([...args], { home: h, env: FILE, input: "value-b" });
      expect({ file, code: r.code }).toEqual({ file, code: 1 });
      expectOneLineError(err(r), new RegExp(`${file.replace(".", "\\.")}: ELOOP \\(it is a symbolic link, and the broker opens its data files only when they are not`));
      expect(readFileSync(victim, "utf8")).toBe("VICTIM\n");
      if (file === "audit.jsonl") {
        // A change: its intent line is on disk in the write-ahead file, the store changes, and
        // the chain (never written through the link) says it could not be appended.
        const set = await runCli(["secret", "set", "b"], { home: h, env: FILE, input: "value-b" });
        expect(set.code).toBe(0);
        expect(err(set)).toMatch(/^warning: done, but its outcome line is missing from the audit log .*audit\.jsonl: ELOOP/);
        expect(readFileSync(victim, "utf8")).toBe("VICTIM\n");
        expect(readdirSync(h).filter((n) => n.startsWith("audit.jsonl.pending.")).map((n) => readFileSync(join(h, n), "utf8")).join("")).toMatch(/"event":"store","name":"b".*"outcome":"intent"/);
      }
    }
  });

  it.skipIf(skipMounts)("a read-only data dir serves reads and refuses writes saying the file system is read-only", async () => {
    const h = home();
    for (const n of ["a", "b"]) expect((await runCli(["secret", "set", n], { home: h, env: FILE, input: `value-${n}` })).code).toBe(0);
    const ro = readOnlyView(h);
    const listed = await runCli(["secret", "list", "--json"], { home: ro, env: FILE });
    expect({ code: listed.code, stderr: err(listed) }).toEqual({ code: 0, stderr: "" });
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((e) => e.name).sort()).toEqual(["a", "b"]);
    expect((await runCli(["secret", "list"], { home: ro, env: FILE })).code).toBe(0);
    for (const args of [["secret", "set", "c"], ["secret", "rm", "a"]]) {
      const r = await runCli(args, { home: ro, env: FILE, input: "v" });
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      // The audit line comes before the change (its intent), so the audit log is what refuses first.
      expectOneLineError(err(r), /^error: The data directory .* is on a read-only file system, so the audit log .*audit\.jsonl cannot be written\. A value is handed out, and a secret stored, changed or deleted, only once its audit line is written \(fail closed\): secrets can be listed, not used\. To fix, remount it read-write, or set MCB_HOME to a writable directory\.$/);
    }
    // The store itself refuses a write in a read-only data dir the same way (a change whose audit line was written elsewhere).
    const direct = await codeOf(new FileStore({ dir: ro }).set("c", { value: "v", createdAt: 1, updatedAt: 1 }));
    expect(direct).toEqual({ code: "STORE_READ_ONLY", message: expect.stringMatching(/^The data directory .* is on a read-only file system: secrets can be listed and read, but not stored, changed or deleted\. To change them, remount it read-write, or set MCB_HOME to a writable directory\.$/) });
    // Reads that record nothing work: status and doctor too.
    for (const args of [["status"], ["doctor"]]) {
      const r = await runCli(args, { home: ro, env: FILE });
      expect({ args, code: r.code }).toEqual({ args, code: 0 });
      expect(r.stdout).toContain("secrets.jsonl");
      expect(r.stderr).not.toMatch(/Internal error|^\s+at /m);
    }
    // `secret get` and `run` hand out a value, which the audit log must record first (fail
    // closed): refused, saying the audit log cannot be written — never served, never "Internal error".
    for (const args of [["secret", "get", "a"], ["run", "--env", "V=secret:a", "--", "true"]]) {
      const got = await runCli(args, { home: ro, env: FILE });
      expect({ args, code: got.code, stdout: got.stdout }).toEqual({ args, code: 1, stdout: "" });
      expectOneLineError(err(got), /^error: (?:Not starting the command: V: )?The data directory .* is on a read-only file system, so the audit log .*audit\.jsonl cannot be written\. A value is handed out, and a secret stored, changed or deleted, only once its audit line is written \(fail closed\): secrets can be listed, not used\. To fix, remount it read-write, or set MCB_HOME to a writable directory\.$/);
    }
    // An MCP client too: list_secrets answers, store_secret is refused with the reason, the broker ends cleanly.
    const b = await serve(ro);
    const l = await call(b, "list_secrets");
    expect(l.isError).toBe(false);
    const s = await call(b, "store_secret", { name: "c", value: "v" });
    expect(s.isError).toBe(true);
    expect(s.body.error).toMatch(/read-only file system/);
    const ref = await call(b, "get_secret", { name: "a", purpose: "read-only test" });
    const resolved = ref.isError ? ref : await call(b, "resolve_secret", { reference_id: ref.body.reference.id });
    expect(resolved.isError).toBe(true);
    expect(resolved.body.error).toMatch(/read-only file system, so the audit log .* cannot be written/);
    expect(await stop(b)).toEqual({ code: 0, signal: null });
    expect(readdirSync(h).sort()).toEqual(readdirSync(ro).sort());
  }, 60_000);
});

describe("output to readers that are slow or gone", () => {
  /** A store with 300 secrets whose tags make `secret list --json` and `audit --json` far larger than a pipe holds (64 KiB). */
  async function bigHome(): Promise<string> {
    const h = home();
    const b = await serve(h);
    for (let i = 0; i < 300; i++) {
      const r = await call(b, "store_secret", { name: `name-${i}`, value: `v${i}`, tags: { note: "t".repeat(300) } });
      expect(r.isError).toBe(false);
    }
    expect(await stop(b)).toEqual({ code: 0, signal: null });
    return h;
  }

  /**
   * Runs `binary args | { sleep 1; cat; }` in bash: a real pipe (64 KiB on Linux) that fills up
   * before anyone reads, as with a slow `jq`. The exit code is the broker's (PIPESTATUS).
   */
  async function slowReader(args: string[], h: string): Promise<{ code: number; stdout: string }> {
    const p = Bun.spawn(["bash", "-c", '"$0" "$@" | { sleep 1; cat; }; exit "${PIPESTATUS[0]}"', requireBinary(), ...args], { env: brokerEnv(h, FILE), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    children.push(p);
    const [stdout, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    return { code, stdout };
  }

  it("`secret list --json` and `audit --json` arrive whole through a pipe read late (no cut at 64 KiB)", async () => {
    const h = await bigHome();
    const list = await slowReader(["secret", "list", "--json"], h);
    expect(list.code).toBe(0);
    expect(list.stdout.length).toBeGreaterThan(100 * 1024);
    expect((JSON.parse(list.stdout) as unknown[]).length).toBe(300);
    const audit = await slowReader(["audit", "--json"], h);
    expect(audit.code).toBe(0);
    expect(audit.stdout.length).toBeGreaterThan(64 * 1024);
    expect((JSON.parse(audit.stdout) as unknown[]).length).toBeGreaterThanOrEqual(300);
  }, 60_000);

  /** Spawns with node's child_process so the test can close its end of the child's stdout. */
  function spawnWithClosedStdout(args: string[], h: string) {
    const child = spawn(requireBinary(), args, { env: brokerEnv(h, FILE), stdio: ["pipe", "pipe", "pipe"] });
    child.stdout.destroy(); // the reader is gone: every write now fails with EPIPE
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
    return { child, exited, stderr: () => stderr };
  }

  it("serve: when the MCP client stops reading, the broker ends quietly (exit 0), not by an unhandled EPIPE", async () => {
    const h = home();
    const s = spawnWithClosedStdout([], h);
    const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "gone", version: "1" } } };
    s.child.stdin.write(`${JSON.stringify(init)}\n`);
    s.child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" })}\n`);
    // stdin stays open: the broker must notice the closed stdout by itself.
    const r = await Promise.race([s.exited, Bun.sleep(10_000).then(() => "still running")]);
    s.child.stdin.end();
    expect(r).toEqual({ code: 0, signal: null });
    const stderr = withoutFallbackWarning(s.stderr());
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toContain("EPIPE: broken pipe");
    expect(stderr.trim().split("\n").filter(Boolean).length).toBeLessThanOrEqual(1);
  }, 30_000);

  it("CLI: `secret list --json | head -c 0` ends with the command's exit code, no stack trace", async () => {
    const h = await bigHome();
    for (const args of [["secret", "list", "--json"], ["audit", "--json"]]) {
      const s = spawnWithClosedStdout(args, h);
      s.child.stdin.end();
      expect({ args, ...(await s.exited) }).toEqual({ args, code: 0, signal: null });
      expect(withoutFallbackWarning(s.stderr())).toBe("");
    }
  }, 60_000);
});
