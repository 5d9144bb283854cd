// Suites that need a Debian package: fail loudly under CI=true when it is missing, else
// say which suite is skipped and the one command that enables it.
import { spawnSync } from "node:child_process";

const announced = new Set<string>();

/** True when every command in `commands` is on PATH. */
export function hasCommands(commands: string[]): boolean {
  return commands.every((c) => spawnSync("sh", ["-c", `command -v ${c}`], { stdio: "ignore" }).status === 0);
}

/**
 * Returns whether `suite` can run. Missing commands throw under CI=true on Linux (a silent
 * skip in CI is a failing test); elsewhere the skip is printed once with `installCommand`.
 */
export function suiteCanRun(suite: string, commands: string[], installCommand: string): boolean {
  if (hasCommands(commands)) return true;
  const msg = `${suite}: needs ${commands.join(", ")}; enable with: ${installCommand}`;
  // The install commands are Debian's: on the macOS and Windows CI runners (ci.yml) such a
  // suite does not apply, so only Linux turns a missing tool into a failure.
  const isCi = process.env.CI === "true" || process.env.CI === "1";
  if (isCi && process.platform === "linux") throw new Error(`CI=true but a required tool is missing — ${msg}`);
  if (!announced.has(suite)) {
    announced.add(suite);
    process.stderr.write(`SKIPPED ${msg}\n`);
  }
  return false;
}
