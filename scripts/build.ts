// `npm run build`: compiles the host binary to dist/mcp-credentials-broker (flags: docs/release.md §Build flags).
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import pkg from "../package.json";
import { targetName } from "../src/build-info.ts";

/** What a build embeds: served by `--version` (src/build-info.ts). */
export interface BuildStamp {
  version: string;
  commit: string;
  /** Our target name (linux-x64, …), embedded as BUILD_TARGET. */
  target: string;
  /** Bun's `--target` (bun-linux-x64-baseline, …); omitted for the host. */
  bunTarget?: string;
}

/** Flags shared with scripts/release.ts. --no-compile-autoload-* keep a stray .env or
 * bunfig.toml in the MCP client's working directory from configuring a credentials broker.
 * --format=esm because --bytecode alone switches to CommonJS (docs/release.md §Build flags). */
export function compileArgs(outfile: string, stamp: BuildStamp): string[] {
  return [
    "build",
    "--compile",
    "--minify",
    "--bytecode",
    "--format=esm",
    "--sourcemap",
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    `--define=BUILD_VERSION=${JSON.stringify(stamp.version)}`,
    `--define=BUILD_COMMIT=${JSON.stringify(stamp.commit)}`,
    `--define=BUILD_TARGET=${JSON.stringify(stamp.target)}`,
    ...(stamp.bunTarget ? [`--target=${stamp.bunTarget}`] : []),
    "--outfile",
    outfile,
    "src/main.ts",
  ];
}

/** Short hash of HEAD, `-dirty` when the tree has uncommitted changes, "unknown" outside git. */
export function gitCommit(cwd = "."): string {
  const head = spawnSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd, encoding: "utf8" });
  if (head.status !== 0) return "unknown";
  const dirty = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd, encoding: "utf8" });
  return `${head.stdout.trim()}${dirty.stdout.trim() ? "-dirty" : ""}`;
}

if (import.meta.main) {
  const version = process.env.MCB_VERSION ?? pkg.version;
  // `--outfile DIR/mcp-credentials-broker` builds elsewhere (tests then use MCB_TEST_BINARY).
  const i = process.argv.indexOf("--outfile");
  const outfile = i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : "dist/mcp-credentials-broker";
  mkdirSync(dirname(outfile), { recursive: true });
  const stamp = { version, commit: gitCommit(), target: targetName(process.platform, process.arch) };
  const proc = Bun.spawnSync([process.execPath, ...compileArgs(outfile, stamp)], { stdio: ["inherit", "inherit", "inherit"] });
  process.exit(proc.exitCode ?? 1);
}
