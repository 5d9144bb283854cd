// Release smoke test, run with plain Node on each native runner (no npm install needed):
//   node scripts/smoke.mjs <binary> [--expect-version X]
// Checks `--version`, then a real MCP session over stdio: initialize → initialized →
// tools/list, then closes stdin and expects a clean exit. Bun 1.4.x has open stdin bugs on
// Linux (oven-sh/bun#42509) and Windows (#41850) that only show on the real OS (docs/release.md §Build flags).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const [binArg, ...rest] = process.argv.slice(2);
if (!binArg) {
  console.error("usage: node scripts/smoke.mjs <binary> [--expect-version X]");
  process.exit(2);
}
const bin = resolve(binArg);
const i = rest.indexOf("--expect-version");
const expected = i >= 0 ? rest[i + 1] : undefined;
const TIMEOUT_MS = 30_000;

function fail(msg) {
  console.error(`smoke: FAIL: ${msg}`);
  process.exit(1);
}

// A private data dir and the memory store: the smoke test never touches a user's secrets.
const home = mkdtempSync(join(tmpdir(), "mcb-smoke-"));
const env = { ...process.env, MCB_HOME: home, MCB_STORE: "memory" };

const v = spawnSync(bin, ["--version"], { env, encoding: "utf8", timeout: TIMEOUT_MS });
if (v.status !== 0) fail(`--version exited ${v.status} ${v.error ?? ""}: ${v.stderr}`);
if (expected && !v.stdout.includes(` ${expected} `)) fail(`--version printed ${JSON.stringify(v.stdout.trim())}, expected version ${expected}`);
console.log(`smoke: --version: ${v.stdout.trim()}`);

const child = spawn(bin, [], { env, stdio: ["pipe", "pipe", "pipe"] });
let stderr = "";
child.stderr.on("data", (c) => (stderr += c));
const timer = setTimeout(() => {
  child.kill();
  fail(`no clean MCP session within ${TIMEOUT_MS} ms; stderr: ${stderr}`);
}, TIMEOUT_MS);

const pending = new Map();
let buf = "";
child.stdout.on("data", (c) => {
  buf += c;
  let nl;
  while ((nl = buf.indexOf("\n")) >= 0) {
    const line = buf.slice(0, nl).trim();
    buf = buf.slice(nl + 1);
    if (!line) continue;
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      fail(`stdout carried a non-JSON-RPC line: ${JSON.stringify(line.slice(0, 200))}`);
    }
    pending.get(msg.id)?.(msg);
  }
});

function request(id, method, params) {
  return new Promise((res) => {
    pending.set(id, res);
    child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
  });
}

const init = await request(1, "initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "release-smoke", version: "1" } });
if (!init.result?.serverInfo?.name) fail(`initialize answered ${JSON.stringify(init)}`);
console.log(`smoke: initialize: ${init.result.serverInfo.name} ${init.result.serverInfo.version}, protocol ${init.result.protocolVersion}`);
child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
const list = await request(2, "tools/list", {});
const names = (list.result?.tools ?? []).map((t) => t.name);
if (!names.includes("get_secret") || !names.includes("resolve_secret")) fail(`tools/list answered ${JSON.stringify(list).slice(0, 500)}`);
console.log(`smoke: tools/list: ${names.length} tools`);

child.stdin.end();
const code = await new Promise((res) => child.on("exit", (c, sig) => res(sig ?? c)));
clearTimeout(timer);
rmSync(home, { recursive: true, force: true });
if (code !== 0) fail(`exited ${code} after stdin closed; stderr: ${stderr}`);
console.log("smoke: OK (exit 0 on stdin EOF)");
