// The exec helper every keychain backend shells out through: argv without a shell, stdin,
// the environment it is given, a hard timeout, and typed errors.
import { describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findSystemTool, runHelper } from "../../src/store/exec.ts";
import { codeOf } from "../support/broker-error.ts";

const BUN = process.execPath;
const env = { PATH: process.env.PATH };

/** Runs a small script under this Bun: argv after the script reach it as process.argv.slice(1). */
function script(source: string, args: string[] = [], opts: { stdin?: string; timeoutMs?: number; env?: Record<string, string | undefined> } = {}) {
  return runHelper({ command: BUN, args: ["-e", source, ...args], stdin: opts.stdin, env: opts.env ?? env, timeoutMs: opts.timeoutMs ?? 10_000 });
}

describe("runHelper", () => {
  it("passes argv through untouched: no shell ever parses it", async () => {
    const tricky = ["$(touch /tmp/pwned)", "a b", "`id`", "; rm -rf /", "|cat", "'\"", "*", "~"];
    const r = await script("process.stdout.write(JSON.stringify(process.argv.slice(1)))", tricky);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(tricky);
  });

  it("delivers stdin byte for byte and closes it", async () => {
    const input = "line one\nline two\r\n密码 🔐\u0000end";
    const r = await script("process.stdout.write(Buffer.from(await new Response(Bun.stdin.stream()).arrayBuffer()).toString('hex'))", [], { stdin: input });
    expect(Buffer.from(r.stdout, "hex").toString("utf8")).toBe(input);
  });

  it("returns non-zero exit codes with both outputs instead of throwing", async () => {
    const r = await script("process.stdout.write('out'); process.stderr.write('err'); process.exit(44)");
    expect(r).toEqual({ code: 44, stdout: "out", stderr: "err" });
  });

  it("reads large stdout and stderr at once without deadlocking", async () => {
    const r = await script("const s = 'x'.repeat(1 << 20); process.stderr.write(s); process.stdout.write(s)");
    expect(r.stdout.length).toBe(1 << 20);
    expect(r.stderr.length).toBe(1 << 20);
  });

  it("gives the helper exactly the environment it is handed", async () => {
    const r = await script("process.stdout.write(JSON.stringify([process.env.MCB_EXEC_PROBE ?? null, process.env.HOME ?? null]))", [], { env: { PATH: process.env.PATH, MCB_EXEC_PROBE: "yes" } });
    expect(JSON.parse(r.stdout)).toEqual(["yes", null]);
  });

  it("kills a helper that outlives its timeout and says so (BACKEND_UNAVAILABLE)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mcb-exec-"));
    try {
      const pidFile = join(dir, "pid");
      const e = await codeOf(script(`require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000)`, [], { timeoutMs: 400 }));
      expect(e.code).toBe("BACKEND_UNAVAILABLE");
      expect(e.message).toContain("did not answer within 400 ms");
      const pid = Number(await Bun.file(pidFile).text());
      await Bun.sleep(50);
      expect(() => process.kill(pid, 0)).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says a missing helper is unavailable", async () => {
    const e = await codeOf(runHelper({ command: "/nonexistent/secret-tool", args: [], env, timeoutMs: 1000 }));
    expect(e.code).toBe("BACKEND_UNAVAILABLE");
    expect(e.message).toContain("/nonexistent/secret-tool");
  });

  it("refuses a helper given by a bare name instead of searching PATH", async () => {
    const e = await codeOf(runHelper({ command: "sh", args: ["-c", "true"], env, timeoutMs: 1000 }));
    expect(e.code).toBe("INTERNAL");
  });
});

describe("findSystemTool", () => {
  it("finds a tool in the system directories and nothing elsewhere", () => {
    const dir = mkdtempSync(join(tmpdir(), "mcb-bin-"));
    try {
      writeFileSync(join(dir, "secret-tool"), "#!/bin/sh\n");
      chmodSync(join(dir, "secret-tool"), 0o755);
      expect(findSystemTool("sh")).toMatch(/^\/(usr\/)?bin\/sh$/);
      expect(findSystemTool("no-such-tool-here")).toBeNull();
      // A directory that is only on PATH is never searched.
      expect(findSystemTool("secret-tool", ["/nonexistent"])).toBeNull();
      expect(findSystemTool("secret-tool", [dir])).toBe(join(dir, "secret-tool"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
