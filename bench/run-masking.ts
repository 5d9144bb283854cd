// `bun bench/run-masking.ts`: what `run` costs an MCP session. One interleaved run comparing
//   direct      the e2e fixture MCP server (test/fixtures/echo-mcp-server.ts on bun), TOKEN in its env,
//   no-masking  the same server behind `dist/mcp-credentials-broker run --no-masking --env TOKEN=secret:t`,
//   masking     the same server behind `dist/mcp-credentials-broker run --env TOKEN=secret:t`,
// on (a) spawn → `initialize` response and (b) tools/call round trips: `echo_env` (a small result
// holding the token, which masking replaces) and `blob` (64 KiB of text with the token inside).
// Requests are raw JSON-RPC lines over stdio. Writes its section of bench/RESULTS.md between the
// run-masking markers (bench/run.ts keeps that section).
//
// Flags: --rounds N (cold starts per program, default 20), --iterations N (default 1000),
// --warmup N (default 50), --no-write.
import type { Subprocess } from "bun";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { countFlag, fmtMs, replaceSection, shuffle, stats } from "./lib.ts";

const ROOT = resolve(import.meta.dir, "..");
const OURS = join(ROOT, "dist", "mcp-credentials-broker");
const FIXTURE = join(ROOT, "test", "fixtures", "echo-mcp-server.ts");
const RESULTS = join(import.meta.dir, "RESULTS.md");
const SECTION = "run-masking";

const ROUNDS = countFlag("rounds", 20);
const ITERATIONS = countFlag("iterations", 1000);
const WARMUP = countFlag("warmup", 50);
const BLOB_KIB = 64;

if (!existsSync(OURS)) {
  process.stderr.write(`bench: ${OURS} is missing. Run \`npm run build\` first.\n`);
  process.exit(1);
}

const TMP = mkdtempSync(join(tmpdir(), "mcb-bench-run-"));
const TOKEN = `bench-token-${crypto.randomUUID()}`;
const baseEnv: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("MCB_") && k !== "JWT_SECRET") baseEnv[k] = v;
const env = { ...baseEnv, MCB_HOME: TMP };

{
  const set = Bun.spawnSync([OURS, "secret", "set", "t"], { env, stdin: Buffer.from(TOKEN), stderr: "pipe" });
  if (set.exitCode !== 0) throw new Error(`secret set failed: ${set.stderr.toString()}`);
}

interface Program {
  key: string;
  label: string;
  argv: string[];
  env: Record<string, string>;
}
const server = [process.execPath, FIXTURE];
const programs: Program[] = [
  { key: "direct", label: "direct: fixture server, TOKEN in its environment", argv: server, env: { ...env, TOKEN } },
  { key: "no-masking", label: "`run --no-masking --env TOKEN=secret:t -- …`", argv: [OURS, "run", "--no-masking", "--env", "TOKEN=secret:t", "--", ...server], env },
  { key: "masking", label: "`run --env TOKEN=secret:t -- …` (masking on)", argv: [OURS, "run", "--env", "TOKEN=secret:t", "--", ...server], env },
];

/** One server over stdio: request lines out, response lines matched by id. */
class Session {
  readonly proc: Subprocess<"pipe", "pipe", "ignore">;
  #buf = "";
  #id = 0;
  #waiting = new Map<number, (r: { msg: Record<string, any>; at: number }) => void>();

  constructor(readonly program: Program) {
    this.proc = Bun.spawn(program.argv, { env: program.env, cwd: TMP, stdin: "pipe", stdout: "pipe", stderr: "ignore" });
    void this.#read();
  }

  async #read(): Promise<void> {
    const dec = new TextDecoder();
    for await (const chunk of this.proc.stdout) {
      const at = performance.now();
      this.#buf += dec.decode(chunk, { stream: true });
      for (let nl = this.#buf.indexOf("\n"); nl >= 0; nl = this.#buf.indexOf("\n")) {
        const msg = JSON.parse(this.#buf.slice(0, nl)) as Record<string, any>;
        this.#buf = this.#buf.slice(nl + 1);
        if (typeof msg.id === "number") this.#waiting.get(msg.id)?.({ msg, at });
      }
    }
  }

  request(method: string, params: unknown): Promise<{ msg: Record<string, any>; at: number }> {
    const id = ++this.#id;
    const reply = new Promise<{ msg: Record<string, any>; at: number }>((r) => this.#waiting.set(id, r));
    this.proc.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    void this.proc.stdin.flush();
    return reply;
  }

  async initialize(): Promise<number> {
    const t0 = performance.now();
    const { at } = await this.request("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "mcb-bench-run", version: "1" } });
    this.proc.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
    return at - t0;
  }

  /** Calls a tool; returns the ms to its response and the text it carried. */
  async call(name: string, args: Record<string, unknown>): Promise<{ ms: number; text: string }> {
    const t0 = performance.now();
    const { msg, at } = await this.request("tools/call", { name, arguments: args });
    return { ms: at - t0, text: String(msg.result?.content?.[0]?.text ?? "") };
  }

  async stop(): Promise<void> {
    this.proc.stdin.end();
    const gone = await Promise.race([this.proc.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
    if (!gone) this.proc.kill("SIGKILL");
    await this.proc.exited;
  }
}

/** Checks each program's answers once, so a broken mask (or none) fails the bench instead of timing it. */
function check(p: Program, tool: string, text: string): void {
  const masked = p.key === "masking";
  if (masked ? text.includes(TOKEN) || !text.includes("<redacted:TOKEN>") : !text.includes(TOKEN)) {
    throw new Error(`${p.key}: ${tool} answered ${masked ? "without masking" : "without the token"}: ${text.slice(0, 200)}`);
  }
}

const loadBefore = loadavg().map((x) => x.toFixed(2)).join(" ");
process.stderr.write(`bench: (a) cold start, ${ROUNDS} rounds …\n`);
const cold = new Map(programs.map((p) => [p.key, [] as number[]]));
for (let round = 0; round < ROUNDS + 1; round++) {
  for (const p of shuffle([...programs])) {
    const s = new Session(p);
    const ms = await s.initialize();
    await s.stop();
    if (round > 0) cold.get(p.key)!.push(ms);
  }
}

process.stderr.write(`bench: (b) ${WARMUP} + ${ITERATIONS} interleaved iterations …\n`);
const sessions = programs.map((p) => new Session(p));
for (const s of sessions) await s.initialize();
const echo = new Map(programs.map((p) => [p.key, [] as number[]]));
const blob = new Map(programs.map((p) => [p.key, [] as number[]]));
for (let i = 0; i < WARMUP + ITERATIONS; i++) {
  for (const s of shuffle([...sessions])) {
    const e = await s.call("echo_env", { name: "TOKEN" });
    const b = await s.call("blob", { name: "TOKEN", kib: BLOB_KIB });
    if (i === 0) {
      check(s.program, "echo_env", e.text);
      check(s.program, "blob", b.text);
    }
    if (i >= WARMUP) {
      echo.get(s.program.key)!.push(e.ms);
      blob.get(s.program.key)!.push(b.ms);
    }
  }
}
for (const s of sessions) await s.stop();
rmSync(TMP, { recursive: true, force: true });

const row = (p: Program) => {
  const c = stats(cold.get(p.key)!);
  const e = stats(echo.get(p.key)!);
  const b = stats(blob.get(p.key)!);
  return `| ${p.label} | ${fmtMs(c.p50)} | ${fmtMs(e.p50)} | ${fmtMs(e.p99)} | ${fmtMs(b.p50)} | ${fmtMs(b.p99)} |`;
};
const p50 = (m: Map<string, number[]>, k: string) => stats(m.get(k)!).p50;
const ratio = (m: Map<string, number[]>, a: string, b: string) => `${(p50(m, a) / p50(m, b)).toFixed(2)}×`;
const delta = (m: Map<string, number[]>, a: string, b: string) => `${(p50(m, a) - p50(m, b) >= 0 ? "+" : "")}${fmtMs(p50(m, a) - p50(m, b))} ms`;
const head = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: ROOT }).stdout.toString().trim();

const section = `## \`run\`: an MCP server behind the wrapper, with and without masking

Generated by \`bun bench/run-masking.ts\` (needs \`npm run build\`), ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}; repo at ${head || "?"};
\`dist/mcp-credentials-broker\` ${statSync(OURS).size.toLocaleString("en-US")} bytes; \`nproc\` = ${cpus().length}; load average ${loadBefore} before,
${loadavg().map((x) => x.toFixed(2)).join(" ")} after. Server: \`test/fixtures/echo-mcp-server.ts\` on Bun ${Bun.version} (the same for all three).
Cold start: ${ROUNDS} rounds (after 1 untimed), spawn → \`initialize\` response. Round trips: ${ITERATIONS} iterations (after
${WARMUP} untimed), the three sessions side by side in a shuffled order per iteration; \`echo_env\` returns the token
(≈0.1 KiB result, one masked value), \`blob\` returns ${BLOB_KIB} KiB of text with the token in the middle.

| program | cold start p50 ms | echo_env p50 ms | p99 | blob ${BLOB_KIB} KiB p50 ms | p99 |
|---|---:|---:|---:|---:|---:|
${programs.map(row).join("\n")}

| comparison (p50) | cold start | echo_env | blob ${BLOB_KIB} KiB |
|---|---:|---:|---:|
| masking vs no-masking | ${delta(cold, "masking", "no-masking")} | ${delta(echo, "masking", "no-masking")} (${ratio(echo, "masking", "no-masking")}) | ${delta(blob, "masking", "no-masking")} (${ratio(blob, "masking", "no-masking")}) |
| run (masking) vs direct | ${delta(cold, "masking", "direct")} | ${delta(echo, "masking", "direct")} (${ratio(echo, "masking", "direct")}) | ${delta(blob, "masking", "direct")} (${ratio(blob, "masking", "direct")}) |
`;

process.stdout.write(`${section}\n`);
if (!process.argv.includes("--no-write")) {
  writeFileSync(RESULTS, replaceSection(existsSync(RESULTS) ? readFileSync(RESULTS, "utf8") : "", SECTION, section));
  process.stderr.write(`bench: wrote the ${SECTION} section of ${RESULTS}\n`);
}
