// `bun bench/keychain.ts` (after `npm run build`): the keychain backend's read path against the
// memory and file backends, on a private GNOME Keyring (test/fixtures/keyring-session.ts):
//   (a) get_secret + resolve_secret round trips on a hot name, three brokers side by side,
//       iterations interleaved in a shuffled order — the cache should keep the keychain within
//       2× of memory;
//   (b) the cold (uncached) read: the same round trip right after another process wrote to the
//       store (the generation changed, so the broker must run `secret-tool lookup` again), and
//       KeychainStore.get on a fresh instance, in this process.
// Writes its section of bench/RESULTS.md between the keychain markers (bench/run.ts keeps it).
// Flags: --iterations N (default 500), --cold N (default 40), --no-write.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { findSystemTool } from "../src/store/exec.ts";
import { KeychainStore } from "../src/store/keychain.ts";
import { LinuxSecretService } from "../src/store/linux.ts";
import { startKeyringSession } from "../test/fixtures/keyring-session.ts";
import { fmtMs, replaceSection, shuffle, stats } from "./lib.ts";

const ROOT = resolve(import.meta.dir, "..");
const OURS = join(ROOT, "dist", "mcp-credentials-broker");
const RESULTS = join(import.meta.dir, "RESULTS.md");

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}
const ITERATIONS = flag("iterations", 500);
const COLD = flag("cold", 40);
const WARMUP = 30;
const WRITE = !process.argv.includes("--no-write");

if (!existsSync(OURS)) throw new Error(`${OURS} is missing: run \`npm run build\` first.`);
const loadBefore = loadavg().map((x) => x.toFixed(2)).join(" ");
const TMP = mkdtempSync(join(tmpdir(), "mcb-bench-keychain-"));
const session = await startKeyringSession();

interface Broker {
  key: string;
  label: string;
  home: string;
  client: Client;
}

async function startBroker(key: string, label: string, store: string): Promise<Broker> {
  const home = join(TMP, key);
  mkdirSync(home, { mode: 0o700 });
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", MCB_HOME: home, MCB_STORE: store, DBUS_SESSION_BUS_ADDRESS: session.address };
  const client = new Client({ name: "mcb-bench-keychain", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command: OURS, args: [], env, stderr: "pipe", cwd: TMP }));
  return { key, label, home, client };
}

async function call(b: Broker, name: string, args: Record<string, unknown>): Promise<Record<string, any>> {
  const r = (await b.client.callTool({ name, arguments: args })) as { content: { text: string }[]; isError?: boolean };
  const body = JSON.parse(r.content[0]!.text);
  if (r.isError) throw new Error(`${b.key}: ${name} failed: ${body.error}`);
  return body;
}

/** One get_secret + resolve_secret; returns [get ms, resolve ms]. */
async function roundTrip(b: Broker, value: string): Promise<[number, number]> {
  const t0 = performance.now();
  const ref = (await call(b, "get_secret", { name: "bench-token", purpose: "benchmark" })).reference.id;
  const t1 = performance.now();
  const got = (await call(b, "resolve_secret", { reference_id: ref })).value;
  const t2 = performance.now();
  if (got !== value) throw new Error(`${b.key}: resolve_secret returned the wrong value`);
  return [t1 - t0, t2 - t1];
}

const value = `bench-value-${crypto.randomUUID()}`;
const brokers = [
  await startBroker("memory", "memory (MCB_STORE=memory)", "memory"),
  await startBroker("file", "file (MCB_STORE=file)", "file"),
  await startBroker("keychain", "keychain: gnome-keyring via secret-tool (MCB_STORE=keychain)", "keychain"),
];
for (const b of brokers) await call(b, "store_secret", { name: "bench-token", value });

// (a) hot reads, interleaved
const hot = new Map(brokers.map((b) => [b.key, { total: [] as number[], get: [] as number[], resolve: [] as number[] }]));
process.stderr.write(`bench: (a) ${WARMUP} untimed + ${ITERATIONS} timed hot round trips …\n`);
for (let i = 0; i < WARMUP + ITERATIONS; i++) {
  for (const b of shuffle([...brokers])) {
    const [g, r] = await roundTrip(b, value);
    if (i < WARMUP) continue;
    const h = hot.get(b.key)!;
    h.get.push(g);
    h.resolve.push(r);
    h.total.push(g + r);
  }
}

// (b1) cold round trips in the keychain broker: another process's write changes the index, so
// the broker's next read goes to the keychain.
process.stderr.write(`bench: (b) ${COLD} cold reads …\n`);
const kb = brokers.find((b) => b.key === "keychain")!;
const items = () => new LinuxSecretService({ secretTool: findSystemTool("secret-tool"), dbusSend: findSystemTool("dbus-send"), env: session.env });
const other = new KeychainStore({ items: items(), dir: kb.home });
const coldTrips: number[] = [];
const coldGets: number[] = [];
for (let i = 0; i < COLD; i++) {
  const now = Date.now();
  await other.set(`other-${i % 4}`, { value: "x", createdAt: now, updatedAt: now });
  const [g, r] = await roundTrip(kb, value);
  coldTrips.push(g + r);
  coldGets.push(g);
}
// (b2) KeychainStore.get on a fresh instance: one `secret-tool lookup` plus decoding.
const freshGets: number[] = [];
for (let i = 0; i < COLD; i++) {
  const s = new KeychainStore({ items: items(), dir: kb.home });
  const t0 = performance.now();
  if ((await s.get("bench-token"))?.value !== value) throw new Error("fresh KeychainStore read the wrong value");
  freshGets.push(performance.now() - t0);
}

for (const b of brokers) await b.client.close();
await session.stop();
rmSync(TMP, { recursive: true, force: true });

// ----------------------------------------------------------------------------- report
const s = (k: string) => stats(hot.get(k)!.total);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const rows = brokers.map((b) => {
  const h = hot.get(b.key)!;
  const t = stats(h.total);
  return `| ${b.label} | **${fmtMs(t.p50)}** | **${fmtMs(t.p99)}** | ${fmtMs(t.mean)} | ${fmtMs(stats(h.get).p50)} | ${fmtMs(stats(h.resolve).p50)} |`;
});
const within = s("keychain").p50 <= 2 * s("memory").p50;
const cold = stats(coldTrips);
const coldGet = stats(coldGets);
const fresh = stats(freshGets);
const git = Bun.spawnSync(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).stdout.toString().trim();
const command = `bun bench/keychain.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(" ")}` : ""}`;

const section = `## Keychain backend: hot and cold reads (\`${command}\`)

Generated by \`bench/keychain.ts\` (needs \`npm run build\` and gnome-keyring, libsecret-tools, dbus); kept by \`bench/run.ts\`.
${new Date().toISOString().replace(/\.\d+Z$/, "Z")}, repo at ${git}, \`nproc\` = ${cpus().length}, load average ${loadBefore} before, ${loadavg().map((x) => x.toFixed(2)).join(" ")} after.
Three brokers (the compiled binary) side by side, each driven by an MCP SDK \`Client\` over stdio (the client's own
cost is in every row alike); the keychain is a private, unlocked GNOME Keyring on its own D-Bus session bus.

**Hot reads** — ${ITERATIONS} timed iterations (after ${WARMUP} untimed) of \`get_secret\` + \`resolve_secret\` on one stored name,
each iteration visiting the three brokers in a shuffled order:

| backend | get+resolve p50 ms | p99 ms | mean | get_secret p50 | resolve_secret p50 |
|---|---:|---:|---:|---:|---:|
${rows.join("\n")}

| target | result | verdict |
|---|---|---|
| keychain within 2× of memory (p50, thanks to the read cache) | ${fmtMs(s("keychain").p50)} ms vs ${fmtMs(s("memory").p50)} ms (${ratio(s("keychain").p50, s("memory").p50)}; p99 ${ratio(s("keychain").p99, s("memory").p99)}) | ${within ? "**MET**" : "**MISSED**"} |

**Cold reads** — the cost when the cache cannot answer (${COLD} samples each):

| case | p50 ms | p99 ms | mean | min | max |
|---|---:|---:|---:|---:|---:|
| keychain broker, get+resolve right after another process wrote to the store | **${fmtMs(cold.p50)}** | ${fmtMs(cold.p99)} | ${fmtMs(cold.mean)} | ${fmtMs(cold.min)} | ${fmtMs(cold.max)} |
| … of which get_secret (runs \`secret-tool lookup\`; resolve_secret is then cached) | ${fmtMs(coldGet.p50)} | ${fmtMs(coldGet.p99)} | ${fmtMs(coldGet.mean)} | ${fmtMs(coldGet.min)} | ${fmtMs(coldGet.max)} |
| \`KeychainStore.get\` on a fresh instance, in-process (one \`secret-tool lookup\` + decode) | ${fmtMs(fresh.p50)} | ${fmtMs(fresh.p99)} | ${fmtMs(fresh.mean)} | ${fmtMs(fresh.min)} | ${fmtMs(fresh.max)} |

Reading the tables: a cached read costs one \`stat\` of \`keychain-index.json\` per store access (get_secret and
resolve_secret each read the store once), which is why the keychain broker sits next to the memory one. A cold
read is one \`secret-tool lookup\` process plus its D-Bus round trip to gnome-keyring; a broker pays it once per name,
and again only after some process writes to the store. The broker's cold row also carries the MCP round trip and
the writer's keychain activity just before it.
`;

process.stdout.write(`${section}\n`);
if (WRITE) {
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, "utf8") : "# Benchmark results\n";
  writeFileSync(RESULTS, replaceSection(old, "keychain", section));
  process.stderr.write(`bench: wrote ${RESULTS}\n`);
}
