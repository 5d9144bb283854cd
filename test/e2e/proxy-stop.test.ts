// `proxy stop` through the compiled binary signals only the proxy `proxy start` started: a
// pid file naming another live process — whose command line even says `proxy` — never gets
// it killed, and neither does a proxy pid file whose process identity no longer matches.
import { afterAll, describe, expect, it } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../support/ports.ts";
import { runCli, tempHome } from "./harness.ts";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("proxy stop (compiled binary)", () => {
  const home = tempHome("mcb-proxy-stop-");
  const started: number[] = [];
  const others: ChildProcess[] = [];

  afterAll(() => {
    for (const c of others) c.kill("SIGKILL");
    for (const pid of started) if (alive(pid)) process.kill(pid, "SIGKILL");
  });

  it("leaves alone an unrelated process that a pid file names, even one whose argv contains 'proxy'", async () => {
    const port = await freePort();
    const other = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", "proxy", "--port", String(port)], { stdio: "ignore" });
    others.push(other);
    await Bun.sleep(100);
    const pidFile = join(home, `proxy-${port}.pid`);
    // What an older broker wrote (no identity), or a pid file whose proxy died and whose pid was reused.
    writeFileSync(pidFile, JSON.stringify({ pid: other.pid, port, upstream: "http://127.0.0.1:9/mcp", startedAt: Date.now() }));
    const r = await runCli(["proxy", "stop", "--port", String(port)], { home });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("No proxy is running on that port.");
    await Bun.sleep(200);
    expect(alive(other.pid!)).toBe(true);
    expect(existsSync(pidFile)).toBe(false);
  });

  it("stops the proxy it started, and not a process that took its pid file's place", async () => {
    const port = String(await freePort());
    const start = await runCli(["proxy", "start", "--upstream", "http://127.0.0.1:9/mcp", "--port", port], { home });
    expect(start.code).toBe(0);
    const pidFile = join(home, `proxy-${port}.pid`);
    const info = JSON.parse(readFileSync(pidFile, "utf8")) as { pid: number; identity?: string };
    started.push(info.pid);
    expect(info.identity).toBeString();

    // The same pid with another identity (as after a reboot or pid reuse) is not signalled.
    writeFileSync(pidFile, JSON.stringify({ ...info, identity: `${info.identity}0` }));
    expect((await runCli(["proxy", "stop", "--port", port], { home })).stderr).toContain("No proxy is running on that port.");
    await Bun.sleep(200);
    expect(alive(info.pid)).toBe(true);

    writeFileSync(pidFile, JSON.stringify(info));
    expect((await runCli(["proxy", "status", "--port", port, "--json"], { home })).stdout).toContain('"running": true');
    const stop = await runCli(["proxy", "stop", "--port", port], { home });
    expect(stop.stderr).toContain("Proxy stopped.");
    for (let i = 0; i < 50 && alive(info.pid); i++) await Bun.sleep(50);
    expect(alive(info.pid)).toBe(false);
    // Starting and stopping it were audited (intent before, outcome after); the refused stops were not.
    const audit = readFileSync(join(home, "audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.filter((l) => l.event === "proxy-start" || l.event === "proxy-stop").map((l) => [l.event, l.outcome, l.target])).toEqual([
      ["proxy-start", "intent", `http://127.0.0.1:9 on port ${port}`],
      ["proxy-start", "ok", `http://127.0.0.1:9 on port ${port}`],
      ["proxy-stop", "intent", `http://127.0.0.1:9 on port ${port}`],
      ["proxy-stop", "ok", `http://127.0.0.1:9 on port ${port}`],
    ]);
  }, 30_000);
});
