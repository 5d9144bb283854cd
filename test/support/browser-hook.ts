// A BROWSER hook for e2e tests: an executable that records each call's argv (one JSON line)
// instead of opening anything; the test then opens the recorded URL in Chromium.
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Whether a script can stand in for a browser here. Windows starts only executables without
 * a shell (and the broker never uses one), so suites driven through a hook skip there; the
 * Linux and macOS runners cover them.
 */
export const browserHooksWork = process.platform !== "win32";

export interface BrowserHook {
  /** Absolute path to set as BROWSER. */
  path: string;
  /** Every call so far: its argv (without the program). */
  calls(): string[][];
  /** Resolves with the URL of call number `index` (0-based) once it has been made. */
  waitForCall(index: number, timeoutMs?: number): Promise<string>;
}

/** Creates a hook in a fresh temp dir. */
export function createBrowserHook(): BrowserHook {
  const dir = mkdtempSync(join(tmpdir(), "mcb-hook-"));
  const ledger = join(dir, "calls.jsonl");
  const path = join(dir, "browser");
  // The interpreter is the Bun running the tests; the URL arrives as argv, never through a shell.
  writeFileSync(path, `#!${process.execPath}\nrequire("node:fs").appendFileSync(${JSON.stringify(ledger)}, JSON.stringify(process.argv.slice(2)) + "\\n");\n`);
  chmodSync(path, 0o755);
  const calls = () => (existsSync(ledger) ? readFileSync(ledger, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as string[]) : []);
  return {
    path,
    calls,
    async waitForCall(index, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const c = calls();
        if (c.length > index) return c[index]![0]!;
        if (Date.now() > deadline) throw new Error(`the BROWSER hook was not called ${index + 1} time(s) within ${timeoutMs} ms`);
        await Bun.sleep(20);
      }
    },
  };
}
