// One release dry run shared by the release tests (release.test.ts, release-bundles.test.ts):
// compiling three targets twice and compressing their archives and bundles is most of their
// time, so it runs once per `bun test` process (test files share the module cache) and its
// output is only read, never rewritten. Targets: linux-x64 (the one that can run here),
// darwin-arm64 (a cross-compiled Mach-O in a tar.gz) and windows-x64 (the Scoop manifest's
// hash and a .exe inside a zip). Each cross build is ≈1 s once Bun's runtime is cached.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pkg from "../../package.json";
import { parseSums } from "../../scripts/release/checksums.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const DRY_RUN_TARGETS = ["linux-x64", "darwin-arm64", "windows-x64"] as const;
/** The dry run's binaries run here only on Linux x64. */
export const canRunLinuxBinary = process.platform === "linux" && process.arch === "x64";

/**
 * The archives' mtime. Without SOURCE_DATE_EPOCH the script takes HEAD's commit time, and other
 * commits may land in this checkout between two runs of one test process.
 */
export const SOURCE_DATE_EPOCH = "1700000000";

/** Runs scripts/release.ts with the pinned Bun (this process), GITHUB_REPOSITORY cleared. */
export function release(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ["scripts/release.ts", ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, GITHUB_REPOSITORY: "", SOURCE_DATE_EPOCH, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface DryRun {
  /** A private temp dir: tests put their own files under it (each in a subdir named for it). */
  tmp: string;
  /** --out: <out>/<target>/ binaries. */
  out: string;
  /** <out>/release: archives, bundles, server.json, SHA256SUMS, formula, Scoop manifest. */
  rel: string;
  run: ReturnType<typeof release>;
  sums: Map<string, string>;
}

let dryRun: DryRun | undefined;

/** The shared dry run, started on first use (≈20-40 s; a cold Bun cache downloads each target's runtime once). */
export function releaseDryRun(): DryRun {
  if (dryRun) return dryRun;
  const tmp = mkdtempSync(join(tmpdir(), "mcb-release-"));
  process.once("exit", () => rmSync(tmp, { recursive: true, force: true }));
  const out = join(tmp, "out");
  const run = release(["--dry-run", "--targets", DRY_RUN_TARGETS.join(","), "--out", out, "--version", pkg.version]);
  if (run.code !== 0) throw new Error(`release failed (${run.code}):\n${run.stderr}`);
  const rel = join(out, "release");
  dryRun = { tmp, out, rel, run, sums: parseSums(readFileSync(join(rel, "SHA256SUMS"), "utf8")) };
  return dryRun;
}
