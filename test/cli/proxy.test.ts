// `proxy` and `proxy start|stop|status|logs` in-process: flags, the state read from the data
// dir (no store opened when nothing runs), and `proxy stop` of a running proxy audited.
// Starting one re-runs the binary: test/e2e/proxy-stop.test.ts checks start's audit lines.
import { afterEach, describe, expect, it } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { backgroundFiles, processIdentity } from "../../src/remote/background.ts";
import { auditLines, cli, refusals, tempHome } from "./harness.ts";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

describe("proxy: flags", () => {
  refusals([
    [["proxy"], 2, /No remote MCP server given. Pass its URL .* or set UPSTREAM_MCP_URL/],
    [["proxy", "start"], 2, /No remote MCP server given/],
    [["proxy", "--upstream", "ftp://mcp.example.com/mcp"], 1, /the scheme "ftp:" is not allowed/],
    [["proxy", "--upstream", "https://mcp.example.com/mcp", "--client-secret", "x"], 2, /Unknown flag '--client-secret' for 'proxy'/],
    [["proxy", "stop", "--port", "x"], 2, /--port must be a TCP port number from 1 to 65535 \(got "x"\)/],
    [["proxy", "status", "--port", "70000"], 2, /--port must be a TCP port number/],
    [["proxy", "logs", "--upstream", "https://x.example"], 2, /Unknown flag '--upstream' for 'proxy logs'/],
    [["proxy", "logs", "--lines", "many"], 2, /--lines must be a whole number from 1 to 999999 \(got "many"\)/],
    [["proxy", "logs", "--lines", "0"], 2, /--lines must be a whole number/],
    [["proxy", "restart"], 2, /Unknown command restart/i],
  ]);
});

describe("proxy status, logs, stop", () => {
  it("nothing running: status says so (human, --json), logs print nothing, stop has nothing to stop — no audit line", async () => {
    const home = tempHome();
    expect(await cli(home, ["proxy", "status", "--port", "5999"])).toEqual({ code: 0, stdout: "No proxy is running on port 5999.\n", stderr: "" });
    expect(JSON.parse((await cli(home, ["proxy", "status", "--json"])).stdout)).toEqual({ running: false });
    expect(await cli(home, ["proxy", "logs"])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await cli(home, ["proxy", "stop"])).toEqual({ code: 0, stdout: "", stderr: "No proxy is running on that port.\n" });
    expect(auditLines(home)).toEqual([]);
  });

  it("logs prints the end of the log (--lines)", async () => {
    const home = tempHome();
    writeFileSync(backgroundFiles(home, 5177).log, "one\ntwo\nthree\n", { mode: 0o600 });
    expect((await cli(home, ["proxy", "logs", "--lines", "2"])).stdout).toBe("two\nthree\n");
  });

  it.if(process.platform !== "win32")("stop signals the running proxy its pid file proves, and audits proxy-stop (intent, ok)", async () => {
    const home = tempHome();
    const port = 5178;
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    children.push(child);
    await Bun.sleep(100);
    const files = backgroundFiles(home, port);
    const identity = processIdentity(child.pid!);
    writeFileSync(files.pid, JSON.stringify({ pid: child.pid, port, upstream: "https://mcp.example.com/mcp", startedAt: Date.now(), ...(typeof identity === "string" && identity !== "gone" ? { identity } : {}) }), { mode: 0o600 });
    const status = await cli(home, ["proxy", "status", "--port", String(port)]);
    expect(status.stdout).toStartWith(`Proxy running (pid ${child.pid}) on port ${port} for https://mcp.example.com/mcp`);
    const exited = new Promise((r) => child.once("exit", r));
    expect(await cli(home, ["proxy", "stop", "--port", String(port)])).toEqual({ code: 0, stdout: "", stderr: "Proxy stopped.\n" });
    await exited;
    expect(auditLines(home).map((l) => [l.event, l.outcome, l.target])).toEqual([
      ["proxy-stop", "intent", `https://mcp.example.com on port ${port}`],
      ["proxy-stop", "ok", `https://mcp.example.com on port ${port}`],
    ]);
  });
});
