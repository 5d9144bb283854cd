// Background mode for the proxy: `proxy start|stop|status|logs`, with a pid file and a log
// file in the data dir per port. A pid file whose process is gone (or is not a proxy of
// ours any more) is stale: it is removed and the proxy counted as stopped.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BrokerError } from "../errors.ts";
import { isProcessAlive } from "../store/lock-file.ts";

export interface BackgroundFiles {
  pid: string;
  log: string;
}

/** What a pid file holds: enough to tell our proxy from a recycled pid. */
interface PidInfo {
  pid: number;
  port: number;
  upstream: string;
  startedAt: number;
}

export function backgroundFiles(dataDir: string, port: number): BackgroundFiles {
  return { pid: join(dataDir, `proxy-${port}.pid`), log: join(dataDir, `proxy-${port}.log`) };
}

function readPid(path: string): PidInfo | null {
  try {
    const info = JSON.parse(readFileSync(path, "utf8")) as PidInfo;
    return Number.isInteger(info.pid) && info.pid > 0 ? info : null;
  } catch {
    return null;
  }
}

/** Whether `pid` is still a broker proxy (Linux: its command line says so; elsewhere: alive is enough). */
function isOurProxy(pid: number): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.includes("proxy");
  } catch {
    return true;
  }
}

/** The running proxy on this port, or null (removing a stale pid file). */
export function runningProxy(files: BackgroundFiles): PidInfo | null {
  if (!existsSync(files.pid)) return null;
  const info = readPid(files.pid);
  if (info && isOurProxy(info.pid)) return info;
  rmSync(files.pid, { force: true });
  return null;
}

/** Starts `argv` (the proxy in the foreground) detached, output appended to the log file; waits until it answers /health. */
export async function startBackground(files: BackgroundFiles, argv: string[], env: Record<string, string | undefined>, info: { port: number; upstream: string; healthUrl: string }): Promise<PidInfo> {
  const running = runningProxy(files);
  if (running) throw new BrokerError("CONFIG_CONFLICT", `A proxy is already running on port ${running.port} (pid ${running.pid}). Stop it with \`mcp-credentials-broker proxy stop --port ${running.port}\`.`);
  mkdirSync(join(files.log, ".."), { recursive: true, mode: 0o700 });
  const fd = openSync(files.log, "a", 0o600);
  try {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ["ignore", fd, fd], env: env as NodeJS.ProcessEnv });
    child.unref();
    const pidInfo: PidInfo = { pid: child.pid!, port: info.port, upstream: info.upstream, startedAt: Date.now() };
    writeFileSync(files.pid, JSON.stringify(pidInfo), { mode: 0o600 });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (!isProcessAlive(pidInfo.pid)) {
        rmSync(files.pid, { force: true });
        throw new BrokerError("COMMAND_FAILED", `The proxy exited at start. See its log: ${files.log}`);
      }
      const ok = await fetch(info.healthUrl, { signal: AbortSignal.timeout(1000) })
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) return pidInfo;
      await Bun.sleep(100);
    }
    throw new BrokerError("COMMAND_FAILED", `The proxy did not answer within 15 s. See its log: ${files.log}`);
  } finally {
    closeSync(fd);
  }
}

/** Stops the proxy on this port (SIGTERM, then SIGKILL after 5 s); false when none was running. */
export async function stopBackground(files: BackgroundFiles): Promise<boolean> {
  const info = runningProxy(files);
  if (!info) return false;
  process.kill(info.pid, "SIGTERM");
  const deadline = Date.now() + 5000;
  while (isProcessAlive(info.pid) && Date.now() < deadline) await Bun.sleep(50);
  if (isProcessAlive(info.pid)) process.kill(info.pid, "SIGKILL");
  rmSync(files.pid, { force: true });
  return true;
}

/** The last `lines` lines of the log file ("" when there is none). */
export function tailLog(files: BackgroundFiles, lines: number): string {
  if (!existsSync(files.log)) return "";
  const all = readFileSync(files.log, "utf8").split("\n");
  if (all.at(-1) === "") all.pop();
  return all.slice(-lines).join("\n");
}
