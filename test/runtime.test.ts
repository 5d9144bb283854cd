// The composition root builds lazily: a command that needs no store never loads the store
// selection policy nor a backend, so it never asks the OS keychain (`proxy logs` used to).
import { describe, expect, it } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { STORE_WARNING_SHOWN_FILE } from "../src/store/select.ts";
import { tempDirs } from "./support/temp-dirs.ts";

const tempDir = tempDirs("mcb-runtime-");
const ROOT = join(import.meta.dir, "..");

/** Runs the broker from source with `argv`; returns its exit code and the src/ modules it loaded. */
function run(argv: string[], env: Record<string, string> = {}): { code: number; stderr: string; modules: string[]; opened: boolean } {
  const home = tempDir();
  // Opening the runtime rewrites or drops the fallback warning's record (storeWarningIsNew): a probe that it ran.
  const record = join(home, STORE_WARNING_SHOWN_FILE);
  writeFileSync(record, "planted by the test", { mode: 0o600 });
  const log = join(tempDir(), "modules.log");
  const r = Bun.spawnSync([process.execPath, "--preload", join(ROOT, "test/fixtures/module-recorder.ts"), join(ROOT, "src/main.ts"), ...argv], {
    env: { PATH: process.env.PATH ?? "", HOME: home, MCB_HOME: home, MCB_TEST_MODULE_LOG: log, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let text = "";
  try {
    text = readFileSync(log, "utf8");
  } catch {
    /* nothing loaded from src/ */
  }
  const modules = text.split("\n").filter(Boolean).map((p) => relative(ROOT, p).replaceAll("\\", "/"));
  return { code: r.exitCode ?? -1, stderr: r.stderr.toString(), modules, opened: !existsSync(record) || readFileSync(record, "utf8") !== "planted by the test" };
}

/** The backends openStore loads on first use. */
const BACKENDS = ["src/store/file.ts", "src/store/keychain.ts", "src/store/linux.ts", "src/store/macos.ts", "src/store/windows.ts", "src/store/memory.ts"];

describe("commands build only what they use", () => {
  it("the recorder sees a command that opens the store load the selection policy and a backend", () => {
    const r = run(["secret", "list"], { MCB_STORE: "file", MCB_STORE_KEY: "k-0123456789abcdef" });
    expect(r.code).toBe(0);
    expect(r.modules).toContain("src/store/select.ts");
    expect(r.modules).toContain("src/store/file.ts");
    expect(r.opened).toBe(true);
  });

  // MCB_STORE=keychain: had any of them opened a store, it would have had to ask the keychain.
  // --help renders every sub-command's usage, so it loads their modules (the policy too), but runs none.
  for (const [argv, policyLoaded] of [[["proxy", "logs"], false], [["proxy", "status"], false], [["proxy", "stop"], false], [["audit"], false], [["rules"], false], [["--help"], true], [["secret", "set", "--help"], false]] as const) {
    it(`${argv.join(" ")}: no store opened, no keychain asked`, () => {
      const r = run([...argv], { MCB_STORE: "keychain" });
      expect(r.stderr).not.toMatch(/keychain|warning|error/i);
      expect(r.code).toBe(0);
      expect(r.opened).toBe(false);
      expect(r.modules.length).toBeGreaterThan(0);
      expect(r.modules.filter((m) => BACKENDS.includes(m))).toEqual([]);
      expect(r.modules.includes("src/store/select.ts")).toBe(policyLoaded);
    });
  }
});

describe("bad values behave as before the environment was read in one place", () => {
  const FILE = { MCB_STORE: "file", MCB_STORE_KEY: "k-0123456789abcdef" };

  it("MCB_AUDIT_MAX_BYTES fails the commands that build the broker (exit 2, INVALID_INPUT), not the others", () => {
    const bad = run(["secret", "list"], { ...FILE, MCB_AUDIT_MAX_BYTES: "12" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("error: MCB_AUDIT_MAX_BYTES must be a whole number of bytes, at least 1024 (got '12').\n");
    expect(run(["rules"], { ...FILE, MCB_AUDIT_MAX_BYTES: "12" }).code).toBe(0);
  });

  it("a bad MCB_LOGIN_TIMEOUT, MCB_CALLBACK_PORT or MCB_APPROVAL_TIMEOUT is ignored with a warning", () => {
    const r = run(["secret", "list"], { ...FILE, MCB_LOGIN_TIMEOUT: "soon", MCB_CALLBACK_PORT: "0", MCB_APPROVAL_TIMEOUT: "-1" });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: ignoring MCB_LOGIN_TIMEOUT="soon": expected a whole number from 1 to 3600');
    expect(r.stderr).toContain("warning: MCB_CALLBACK_PORT must be a TCP port number");
    expect(r.stderr).toContain('warning: ignoring MCB_APPROVAL_TIMEOUT="-1": expected a whole number of seconds from 1 to 3600');
  });
});
