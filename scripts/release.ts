// `bun scripts/release.ts`: cuts a release for every target (docs/release.md). Compiles each
// target twice and compares the hashes (reproducibility gate), packs tar.gz / zip archives
// with README and LICENSE and an MCP Bundle (.mcpb) per target, renders the MCP Registry's
// server.json, writes SHA256SUMS, and renders the Homebrew formula and the Scoop manifest from
// it. It publishes nothing: .github/workflows/release.yml signs, smoke-tests, attests and
// uploads what this writes to <out>/release/; docs/release.md says how server.json is published.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pkg from "../package.json";
import { type ArchiveEntry, sharedDeflater, tarGzAsync, zipAsync } from "./release/archive.ts";
import { formatSums, PLACEHOLDER_SHA256, sha256Hex } from "./release/checksums.ts";
import { type PackageInput, renderFormula } from "./release/formula.ts";
import { bundleEntries, bundleName } from "./release/mcpb.ts";
import { renderScoopManifest } from "./release/scoop.ts";
import { renderServerJson } from "./release/server-json.ts";
import { archiveName, exeName, parseTargets, type ReleaseTarget, TARGETS } from "./release/targets.ts";
import { compileArgs, gitCommit } from "./build.ts";

/** Every flag the script accepts; test/scripts/workflows.test.ts checks the workflows use only these. */
export const RELEASE_OPTIONS = {
  version: { type: "string" },
  targets: { type: "string" },
  "dry-run": { type: "boolean" },
  out: { type: "string" },
  repo: { type: "string" },
  "build-only": { type: "boolean" },
  "pack-only": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const USAGE = `usage: bun scripts/release.ts [--version X] [--targets a,b] [--dry-run] [--out DIR] [--repo OWNER/NAME] [--build-only | --pack-only]

  --version X       version to embed and publish (default: package.json's, ${pkg.version})
  --targets a,b     subset of ${TARGETS.map((t) => t.name).join(", ")} (default: all)
  --dry-run         build and pack anyway when a real release would refuse (dirty tree, no
                    v<version> tag at HEAD, a subset of targets, no --repo); hashes of targets
                    not built are ${PLACEHOLDER_SHA256.slice(0, 8)}… placeholders
  --out DIR         output root (default dist): DIR/<target>/mcp-credentials-broker[.exe],
                    DIR/release/{archives,.mcpb bundles,server.json,SHA256SUMS,
                    mcp-credentials-broker.rb,mcp-credentials-broker.json}
  --repo OWNER/NAME GitHub repository hosting the releases (default: $GITHUB_REPOSITORY)
  --build-only      compile and check reproducibility; no archives
  --pack-only       archive the binaries already in DIR/<target>/ (after macOS re-signing)

examples:
  bun scripts/release.ts --dry-run --targets linux-x64,darwin-arm64
  bun scripts/release.ts --version 1.2.3 --repo acme/mcp-credentials-broker`;

const ROOT = resolve(import.meta.dir, "..");
const VERSION_RE = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;
const REPO_RE = /^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/;

class ReleaseError extends Error {}

function log(msg: string): void {
  process.stderr.write(`release: ${msg}\n`);
}

function git(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });
  return { ok: r.status === 0, out: (r.stdout ?? "").trim() };
}

/** Why a real (non-dry) release must not go ahead; empty when it may. */
function releaseBlockers(o: { version: string; targets: ReleaseTarget[]; repo: string | undefined; building: boolean }): string[] {
  const problems: string[] = [];
  if (o.targets.length !== TARGETS.length) problems.push(`only ${o.targets.map((t) => t.name).join(", ")} selected; a release ships all ${TARGETS.length} targets`);
  if (!o.repo) problems.push("no --repo OWNER/NAME (or GITHUB_REPOSITORY) for the download URLs");
  if (o.building) {
    if (git(["status", "--porcelain", "--untracked-files=no"]).out) problems.push("the working tree has uncommitted changes");
    const tags = git(["tag", "--points-at", "HEAD"]).out.split("\n");
    if (!tags.includes(`v${o.version}`)) problems.push(`HEAD is not tagged v${o.version}`);
  }
  return problems;
}

/** Refuses a Bun other than the pinned one: bytes (and so the reproducibility promise) depend on it. */
function checkPinnedBun(): void {
  const pinned = readFileSync(join(ROOT, ".bun-version"), "utf8").trim();
  if (Bun.version !== pinned) throw new ReleaseError(`Bun ${Bun.version} is running but .bun-version pins ${pinned}; run with node_modules/.bin/bun (npm ci) or that version`);
}

function compile(t: ReleaseTarget, outfile: string, stamp: { version: string; commit: string }): string {
  rmSync(resolve(outfile, ".."), { recursive: true, force: true });
  mkdirSync(resolve(outfile, ".."), { recursive: true });
  const r = spawnSync(process.execPath, compileArgs(outfile, { ...stamp, target: t.name, bunTarget: t.bunTarget }), { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0 || !existsSync(outfile)) throw new ReleaseError(`compiling ${t.name} failed:\n${r.stderr}${r.stdout}`);
  return sha256Hex(readFileSync(outfile));
}

/** Builds `t` into out/<t>/ and again into out/.repro/<t>/; the two must be byte-identical. */
export function buildTarget(out: string, t: ReleaseTarget, stamp: { version: string; commit: string }): string {
  const first = compile(t, join(out, t.name, exeName(t)), stamp);
  const second = compile(t, join(out, ".repro", t.name, exeName(t)), stamp);
  rmSync(join(out, ".repro"), { recursive: true, force: true });
  checkReproducible(t.name, first, second);
  return first;
}

/** The reproducibility gate (docs/release.md §Build flags): same Bun, flags and outfile basename → same bytes. */
export function checkReproducible(name: string, first: string, second: string): void {
  if (first !== second) throw new ReleaseError(`${name} is not reproducible: two builds gave ${first} and ${second}`);
}

/** Seconds for archive mtimes: SOURCE_DATE_EPOCH, else the commit time, so archives are reproducible too. */
function sourceDateEpoch(): number {
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env && /^\d+$/.test(env)) return Number(env);
  const ct = git(["log", "-1", "--format=%ct"]);
  return ct.ok && /^\d+$/.test(ct.out) ? Number(ct.out) : 0;
}

async function pack(out: string, targets: ReleaseTarget[], input: Omit<PackageInput, "sums">): Promise<Map<string, string>> {
  const dir = join(out, "release");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const mtime = sourceDateEpoch();
  const docs: ArchiveEntry[] = ["LICENSE", "README.md"].map((name) => ({ name, data: readFileSync(join(ROOT, name)), mode: 0o644 }));
  const license = docs.find((d) => d.name === "LICENSE")!;
  const sums = new Map<string, string>();
  const write = (name: string, bytes: Uint8Array) => {
    writeFileSync(join(dir, name), bytes);
    sums.set(name, sha256Hex(bytes));
    log(`packed ${name} (${bytes.length.toLocaleString("en-US")} bytes)`);
  };
  for (const t of targets) {
    const exe = join(out, t.name, exeName(t));
    if (!existsSync(exe)) throw new ReleaseError(`${exe} is missing: build it first (without --pack-only)`);
    const data = readFileSync(exe);
    const entries = [{ name: exeName(t), data, mode: 0o755 }, ...docs];
    // A target's archive and bundle compress side by side on zlib's threads (one target at a
    // time bounds memory); a zip pair (Windows) deflates its shared binary once.
    const deflate = sharedDeflater();
    const bundle = bundleEntries(t, { version: input.version, repo: input.repo, exe: data, license: license.data });
    const [archived, bundled] = await Promise.all([t.os === "windows" ? zipAsync(entries, mtime, deflate) : tarGzAsync(entries, mtime), zipAsync(bundle, mtime, deflate)]);
    write(archiveName(t), archived);
    write(bundleName(t), bundled);
  }
  // server.json carries the bundles' hashes, and SHA256SUMS carries server.json's.
  write("server.json", Buffer.from(renderServerJson({ ...input, sums })));
  writeFileSync(join(dir, "SHA256SUMS"), formatSums(sums));
  const full = { ...input, sums };
  writeFileSync(join(dir, "mcp-credentials-broker.rb"), renderFormula(full));
  writeFileSync(join(dir, "mcp-credentials-broker.json"), renderScoopManifest(full));
  return sums;
}

export async function main(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parseArgs<{ options: typeof RELEASE_OPTIONS; args: string[] }>>["values"];
  try {
    ({ values } = parseArgs({ args: argv, options: RELEASE_OPTIONS, strict: true, allowPositionals: false }));
  } catch (e) {
    process.stderr.write(`${USAGE}\n\nerror: ${(e as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    const dryRun = Boolean(values["dry-run"]);
    const version = values.version ?? pkg.version;
    if (!VERSION_RE.test(version)) throw new ReleaseError(`--version ${JSON.stringify(version)} is not MAJOR.MINOR.PATCH[-PRE]`);
    const repo = values.repo ?? (process.env.GITHUB_REPOSITORY || undefined);
    if (repo !== undefined && !REPO_RE.test(repo)) throw new ReleaseError(`--repo ${JSON.stringify(repo)} is not OWNER/NAME`);
    if (values["build-only"] && values["pack-only"]) throw new ReleaseError("--build-only and --pack-only exclude each other");
    const targets = parseTargets(values.targets);
    const out = resolve(values.out ?? join(ROOT, "dist"));
    const building = !values["pack-only"];

    const blockers = releaseBlockers({ version, targets, repo, building });
    if (blockers.length && !dryRun) throw new ReleaseError(`not releasing (use --dry-run to try anyway):\n  - ${blockers.join("\n  - ")}`);
    for (const b of blockers) log(`dry run: a release would refuse: ${b}`);

    if (building) {
      checkPinnedBun();
      const stamp = { version, commit: gitCommit(ROOT) };
      for (const t of targets) {
        const hex = buildTarget(out, t, stamp);
        log(`built ${t.name} (${statSync(join(out, t.name, exeName(t))).size.toLocaleString("en-US")} bytes), reproducible: ${hex}`);
      }
    }
    if (values["build-only"]) return 0;
    const sums = await pack(out, targets, { version, repo: repo ?? "OWNER/mcp-credentials-broker", allowMissing: dryRun });
    const missing = TARGETS.filter((t) => !sums.has(archiveName(t))).map((t) => t.name);
    if (missing.length) log(`dry run: formula, Scoop manifest and server.json carry placeholder hashes for ${missing.join(", ")}`);
    process.stdout.write(`${formatSums(sums)}`);
    return 0;
  } catch (e) {
    process.stderr.write(`release: error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
