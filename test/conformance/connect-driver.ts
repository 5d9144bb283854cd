// Conformance driver for `connect` (the suite runs `bun connect-driver.ts <server-url>`): an
// SDK Client over stdio starts `<binary> connect <url> --store memory --port <free>` with the
// scenario's options (lib.ts brokerOptions), a fresh MCB_HOME and BROWSER set to browser.ts,
// then does initialize, tools/list and calls every tool. Exit 0 only when all of it worked.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BINARY } from "../e2e/harness.ts";
import { freePort } from "../support/ports.ts";
import { CLIENT_CAPABILITIES, acceptElicitations, brokerEnv, brokerOptions, deadline, exercise, readContext, say } from "./lib.ts";

const WHO = "connect-driver";
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? "";
const serverUrl = process.argv.at(-1) ?? "";
const timeoutMs = Number(process.env.CONFORMANCE_DRIVER_TIMEOUT_MS ?? 25_000);

const work = mkdtempSync(join(tmpdir(), "mcb-conf-connect-"));
const home = join(work, "home");
mkdirSync(home);
const browserLog = join(work, "browser.log");
// BROWSER names one program, started without a shell with the URL as its argument.
const browser = join(work, "browser");
writeFileSync(browser, `#!${process.execPath}\nprocess.env.CONFORMANCE_BROWSER_LOG = ${JSON.stringify(browserLog)};\nrequire(${JSON.stringify(resolve(import.meta.dir, "browser.ts"))});\n`);
chmodSync(browser, 0o755);

const opts = brokerOptions(scenario, readContext());
const port = await freePort();
const args = ["connect", serverUrl, "--store", "memory", "--port", String(port), ...opts.args];
say(WHO, `scenario ${scenario}: ${BINARY} ${args.join(" ")}${Object.keys(opts.env).length ? ` (env: ${Object.keys(opts.env).join(", ")})` : ""}`);

const transport = new StdioClientTransport({ command: BINARY, args, env: brokerEnv(home, { BROWSER: browser, ...opts.env }), stderr: "pipe" });
transport.stderr?.on("data", (c: Buffer) => {
  for (const line of c.toString("utf8").split("\n")) if (line) process.stderr.write(`[broker] ${line}\n`);
});
const client = new Client({ name: "mcb-conformance-connect", version: "1.0.0" }, { capabilities: CLIENT_CAPABILITIES });
acceptElicitations(client, WHO);

let finished = false;
async function finish(code: number): Promise<never> {
  if (!finished) {
    finished = true;
    await client.close().catch(() => {});
    if (existsSync(browserLog)) process.stderr.write(readFileSync(browserLog, "utf8"));
    opts.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
  process.exit(code);
}
// The suite kills the driver when its own timeout passes: take the broker down with it.
for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => void finish(1));

if (!existsSync(BINARY)) {
  say(WHO, `${BINARY} is missing: run \`npm run build\` or set MCB_TEST_BINARY`);
  await finish(2);
}
const limit = deadline(timeoutMs, "the connect driver");
try {
  await Promise.race([
    (async () => {
      await client.connect(transport);
      say(WHO, `initialized: ${JSON.stringify(client.getServerVersion())}`);
      await exercise(client, WHO);
    })(),
    limit.promise,
  ]);
  say(WHO, "done");
  limit.clear();
  await finish(0);
} catch (e) {
  limit.clear();
  say(WHO, `FAILED: ${e instanceof Error ? e.message : String(e)}`);
  await finish(1);
}
