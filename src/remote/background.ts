// Background mode for the proxy: `proxy start|stop|status|logs`, with a pid file and a log
// file in the data dir per port. The pid file also records the process's identity (its start
// time, read from the OS), so `stop` signals only the process `start` started: a pid is
// reused once its process is gone, and the word "proxy" in a command line proves nothing. A
// pid file whose process is gone, or is another process now, is stale: it is removed and the
// proxy counted as stopped.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { config, type InheritedEnv } from "../config.ts";
import { writeFileAtomic } from "../files/atomic-write.ts";
import { openDataFile, readDataFile } from "../files/data-files.ts";
import { BrokerError } from "../errors.ts";
import { isProcessAlive } from "../files/lock-file.ts";
import { POWERSHELL_ARGS, windowsPowerShellPath } from "../store/exec.ts";

export interface BackgroundFiles {
  pid: string;
  log: string;
}

/** What a pid file holds: enough to tell our proxy from a recycled pid. */
export interface PidInfo {
  pid: number;
  port: number;
  upstream: string;
  startedAt: number;
  /** processIdentity() of the proxy when it was started; a pid file without one proves nothing. */
  identity?: string;
}

export function backgroundFiles(dataDir: string, port: number): BackgroundFiles {
  return { pid: join(dataDir, `proxy-${port}.pid`), log: join(dataDir, `proxy-${port}.log`) };
}

function readPid(path: string): PidInfo | null {
  try {
    const info = JSON.parse(readDataFile(path, "utf8")) as PidInfo;
    return Number.isInteger(info.pid) && info.pid > 0 ? info : null;
  } catch {
    return null;
  }
}

/** How long `ps` or PowerShell may take to describe one process. */
const IDENTITY_TIMEOUT_MS = 10_000;

/** The command that prints a process's start time (not on Linux, which has /proc). */
export function identityCommand(pid: number, platform: NodeJS.Platform, env: InheritedEnv): { command: string; args: string[]; input?: string } {
  if (platform === "win32") {
    // 100 ns resolution; the script travels on stdin, argv holds fixed flags only.
    return { command: windowsPowerShellPath(env), args: [...POWERSHELL_ARGS], input: `(Get-Process -Id ${pid} -ErrorAction Stop).StartTime.ToFileTimeUtc()\n` };
  }
  // macOS and the BSDs: the start time (to the second) and the command that was executed.
  return { command: "/bin/ps", args: ["-o", "lstart=", "-o", "comm=", "-p", String(pid)] };
}

/**
 * Who process `pid` is, beyond its number: on Linux the boot id and its start time in clock
 * ticks (/proc/<pid>/stat field 22, proc(5)) — the pair polkit and systemd use to name a
 * process; elsewhere the start time from `ps` or PowerShell's Get-Process. "gone" when there
 * is no such process; null when it could not be read (then nothing is proven either way).
 * `ps` and PowerShell run in the broker's inherited environment (src/config.ts InheritedEnv:
 * PowerShell needs SystemRoot), with LC_ALL=C so the start time reads the same every time.
 */
export function processIdentity(pid: number, platform: NodeJS.Platform = process.platform, env: InheritedEnv = config().inherited): string | "gone" | null {
  if (!isProcessAlive(pid)) return "gone";
  if (platform === "linux") {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // The command name (field 2) is in parentheses and may hold spaces or ')': count from the last ')'.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const startTime = fields[19];
      const bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
      return startTime && /^\d+$/.test(startTime) ? `linux:${bootId}:${startTime}` : null;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "ENOENT" ? "gone" : null;
    }
  }
  const { command, args, input } = identityCommand(pid, platform, env);
  const r = spawnSync(command, args, { input, encoding: "utf8", timeout: IDENTITY_TIMEOUT_MS, env: { ...env, LC_ALL: "C" }, windowsHide: true });
  const out = r.status === 0 ? r.stdout.trim() : "";
  if (out) return `${platform}:${out.replace(/\s+/g, " ")}`;
  return isProcessAlive(pid) ? null : "gone";
}

type Ownership = "ours" | "other" | "unknown";

/** Whether the pid file's process is the proxy it names: the same process identity as at start. */
function ownership(info: PidInfo): Ownership {
  const now = processIdentity(info.pid);
  if (now === "gone") return "other";
  if (now === null) return "unknown";
  return info.identity !== undefined && now === info.identity ? "ours" : "other";
}

/** The running proxy on this port, or null (removing a stale pid file: its process is gone or another one). */
export function runningProxy(files: BackgroundFiles): PidInfo | null {
  if (!existsSync(files.pid)) return null;
  const info = readPid(files.pid);
  const owner = info ? ownership(info) : "other";
  if (owner === "ours") return info;
  // Unknown (ps failed): keep the file, so a later `stop` can still prove it.
  if (owner === "other") rmSync(files.pid, { force: true });
  return null;
}

/** Starts `argv` (the proxy in the foreground) detached, output appended to the log file; waits until it answers /health. */
export async function startBackground(files: BackgroundFiles, argv: string[], env: Record<string, string | undefined>, info: { port: number; upstream: string; healthUrl: string }): Promise<PidInfo> {
  const running = runningProxy(files);
  if (running) throw new BrokerError("CONFIG_CONFLICT", `A proxy is already running on port ${running.port} (pid ${running.pid}). Stop it with \`mcp-credentials-broker proxy stop --port ${running.port}\`.`);
  mkdirSync(join(files.log, ".."), { recursive: true, mode: 0o700 });
  // Never through a link planted in the data dir (src/files/data-files.ts): the log would land in its target.
  const fd = openDataFile(files.log, "a");
  try {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ["ignore", fd, fd], env: env as NodeJS.ProcessEnv });
    child.unref();
    const pidInfo: PidInfo = { pid: child.pid!, port: info.port, upstream: info.upstream, startedAt: Date.now() };
    const record = () => {
      const identity = processIdentity(pidInfo.pid);
      if (identity !== null && identity !== "gone") pidInfo.identity = identity;
      // Replaced by rename: a link planted at the pid file's name is replaced, never followed.
      writeFileAtomic(files.pid, JSON.stringify(pidInfo), 0o600);
    };
    record();
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (!isProcessAlive(pidInfo.pid)) {
        rmSync(files.pid, { force: true });
        throw new BrokerError("COMMAND_FAILED", `The proxy exited at start. See its log: ${files.log}`);
      }
      const ok = await fetch(info.healthUrl, { signal: AbortSignal.timeout(1000) })
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) {
        // Read again now that it serves: by then it has surely replaced the image it was forked from.
        if (pidInfo.identity === undefined) record();
        if (pidInfo.identity === undefined) throw new BrokerError("COMMAND_FAILED", `The proxy started (pid ${pidInfo.pid}) but its start time could not be read, so \`proxy stop\` could not prove it is ours. Stop it with your system's tools (kill ${pidInfo.pid}).`);
        return pidInfo;
      }
      await Bun.sleep(100);
    }
    // It is the process we just started: stopping it is safe, and a proxy that never answers is of no use.
    child.kill("SIGKILL");
    rmSync(files.pid, { force: true });
    throw new BrokerError("COMMAND_FAILED", `The proxy did not answer within 15 s and was stopped. See its log: ${files.log}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Stops the proxy on this port (SIGTERM, then SIGKILL after 5 s); false when none was
 * running. Only the process the pid file's identity names is signalled, and the identity is
 * checked again before SIGKILL (the pid may have been reused meanwhile).
 */
export async function stopBackground(files: BackgroundFiles): Promise<boolean> {
  if (!existsSync(files.pid)) return false;
  const info = readPid(files.pid);
  const owner = info ? ownership(info) : "other";
  if (owner === "unknown") {
    throw new BrokerError("COMMAND_FAILED", `Cannot tell whether pid ${info!.pid} is still the proxy (its start time could not be read), so it was not signalled. Run \`mcp-credentials-broker proxy stop\` again, or stop it with your system's tools if it is the proxy.`);
  }
  if (owner === "other") {
    // Gone, or another process has its pid now (or an older broker wrote the file without an identity).
    rmSync(files.pid, { force: true });
    return false;
  }
  const pid = info!.pid;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 5000;
  while (isProcessAlive(pid) && Date.now() < deadline) await Bun.sleep(50);
  if (ownership(info!) === "ours") process.kill(pid, "SIGKILL");
  rmSync(files.pid, { force: true });
  return true;
}

/** The last `lines` lines of the log file ("" when there is none). */
export function tailLog(files: BackgroundFiles, lines: number): string {
  if (!existsSync(files.log)) return "";
  const all = readDataFile(files.log, "utf8").split("\n");
  if (all.at(-1) === "") all.pop();
  return all.slice(-lines).join("\n");
}
