// `proxy stop` signals only the process `proxy start` started: the pid file records the
// process's identity (start time), and a live process with that pid but another identity —
// however much its command line looks like a proxy — is never signalled.
import { afterEach, describe, expect, it } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backgroundFiles, identityCommand, processIdentity, runningProxy, startBackground, stopBackground, tailLog } from "../../src/remote/background.ts";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

/** A process that is not a proxy, whose argv nevertheless says `proxy`. */
async function impostor(): Promise<ChildProcess> {
  const c = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", "mcp-credentials-broker", "proxy"], { stdio: "ignore" });
  children.push(c);
  await Bun.sleep(50);
  return c;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function pidFile(pid: number, identity?: string) {
  const files = backgroundFiles(mkdtempSync(join(tmpdir(), "mcb-bg-")), 5177);
  writeFileSync(files.pid, JSON.stringify({ pid, port: 5177, upstream: "https://mcp.example.com/mcp", startedAt: Date.now(), ...(identity ? { identity } : {}) }));
  return files;
}

describe("processIdentity", () => {
  it("is stable for one process, differs between processes, and says when a process is gone", async () => {
    const a = processIdentity(process.pid);
    expect(a).toBeString();
    expect(processIdentity(process.pid)).toBe(a);
    const c = await impostor();
    expect(processIdentity(c.pid!)).not.toBe(a);
    c.kill("SIGKILL");
    await new Promise((r) => c.once("exit", r));
    expect(processIdentity(c.pid!)).toBe("gone");
  });

  it.if(existsSync("/bin/ps"))("reads the start time through ps as on macOS (procps ps takes the same flags): stable, per process, gone", async () => {
    const a = processIdentity(process.pid, "darwin");
    expect(a).toStartWith("darwin:");
    expect(processIdentity(process.pid, "darwin")).toBe(a);
    const c = await impostor();
    await Bun.sleep(1100); // ps shows the start time to the second
    const b = processIdentity(c.pid!, "darwin");
    expect(b).toStartWith("darwin:");
    expect(b).not.toBe(a);
    c.kill("SIGKILL");
    await new Promise((r) => c.once("exit", r));
    expect(processIdentity(c.pid!, "darwin")).toBe("gone");
  });

  it("asks ps (macOS, BSD) or PowerShell on stdin (Windows) for the start time, by absolute path and fixed argv", () => {
    expect(identityCommand(42, "darwin", {})).toEqual({ command: "/bin/ps", args: ["-o", "lstart=", "-o", "comm=", "-p", "42"] });
    const win = identityCommand(42, "win32", { SystemRoot: "C:\\Windows" });
    expect(win.command).toBe("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe");
    expect(win.args).toEqual(["-NoLogo", "-NoProfile", "-NonInteractive", "-Command", "-"]);
    expect(win.input).toContain("Get-Process -Id 42");
  });
});

describe("proxy stop", () => {
  it("does not signal a live process whose pid file names no identity, even with 'proxy' in its argv", async () => {
    const c = await impostor();
    const files = pidFile(c.pid!);
    expect(runningProxy(files)).toBeNull();
    expect(existsSync(files.pid)).toBe(false);
    writeFileSync(files.pid, JSON.stringify({ pid: c.pid, port: 5177, upstream: "x", startedAt: 0 }));
    expect(await stopBackground(files)).toBe(false);
    expect(existsSync(files.pid)).toBe(false);
    await Bun.sleep(50);
    expect(alive(c.pid!)).toBe(true);
  });

  it("does not signal a process that reuses the pid of the proxy (another identity)", async () => {
    const c = await impostor();
    const files = pidFile(c.pid!, "linux:some-boot:12345");
    expect(await stopBackground(files)).toBe(false);
    await Bun.sleep(50);
    expect(alive(c.pid!)).toBe(true);
  });

  it("stops the process the pid file's identity names", async () => {
    const c = await impostor();
    const files = pidFile(c.pid!, processIdentity(c.pid!) as string);
    expect(runningProxy(files)?.pid).toBe(c.pid!);
    const exited = new Promise((r) => c.once("exit", r));
    expect(await stopBackground(files)).toBe(true);
    await exited;
    expect(alive(c.pid!)).toBe(false);
    expect(existsSync(files.pid)).toBe(false);
  });
});

describe("the proxy's files in the data dir are never opened through a link", () => {
  it("a link planted at the log's name refuses the start and leaves its target untouched; one at the pid file's name is replaced, not followed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mcb-bg-link-"));
    const target = join(dir, "victim.txt");
    writeFileSync(target, "unchanged");
    const files = backgroundFiles(dir, 5999);
    symlinkSync(target, files.log);
    // Nothing is started: the log cannot be opened (ELOOP), so no process is spawned.
    await expect(startBackground(files, ["/bin/true"], {}, { port: 5999, upstream: "http://127.0.0.1:1/mcp", healthUrl: "http://127.0.0.1:1/health" })).rejects.toMatchObject({ code: "ELOOP" });
    expect(readFileSync(target, "utf8")).toBe("unchanged");
    expect(existsSync(files.pid)).toBe(false);
    // tailLog does not read through the link either.
    expect(() => tailLog(files, 10)).toThrow();

    rmSync(files.log);
    symlinkSync(target, files.pid);
    // A child that exits at once: the pid file is written (by rename, over the link), then removed.
    await expect(startBackground(files, ["/bin/true"], {}, { port: 5999, upstream: "http://127.0.0.1:1/mcp", healthUrl: "http://127.0.0.1:1/health" })).rejects.toThrow("exited at start");
    expect(readFileSync(target, "utf8")).toBe("unchanged");
    expect(lstatSync(target).isFile()).toBe(true);
  }, 20_000);
});
