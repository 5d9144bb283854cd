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

/**
 * Like suiteCanRun, for suites whose tools come from Debian `packages`: outside CI, when
 * running as root with apt-get, the missing packages are installed first (apt-get update
 * only if the install needs it); otherwise the skip names the one command that enables the
 * suite. Under CI=true a tool still missing fails loudly (`.ci/run` installs them).
 */
export function ensureCommands(suite: string, commands: string[], packages: string[]): boolean {
  if (hasCommands(commands)) return true;
  const isCi = process.env.CI === "true" || process.env.CI === "1";
  const canInstall = !isCi && process.platform === "linux" && process.getuid?.() === 0 && hasCommands(["apt-get"]);
  if (canInstall) {
    process.stderr.write(`${suite}: installing ${packages.join(" ")} (apt-get, as root)\n`);
    const install = () => spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], { stdio: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }, timeout: 600_000 }).status === 0;
    if (!install()) {
      spawnSync("apt-get", ["update", "-qq"], { stdio: "ignore", timeout: 300_000 });
      install();
    }
    if (hasCommands(commands)) return true;
  }
  return suiteCanRun(suite, commands, `apt-get install -y --no-install-recommends ${packages.join(" ")}`);
}
