// .github/workflows (acceptance 2 of issue 8): valid YAML, every action pinned by commit,
// every scripts/release.ts flag they pass is one the script accepts, and the release
// pipeline keeps its safety steps (re-sign + strict verify of both macOS binaries, native
// smoke tests, provenance, least privilege).
import { describe, expect, it } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { RELEASE_OPTIONS } from "../../scripts/release.ts";
import { TARGETS } from "../../scripts/release/targets.ts";

const ROOT = resolve(import.meta.dir, "../..");
const DIR = join(ROOT, ".github", "workflows");

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  if?: string;
}
interface Job {
  "runs-on"?: string;
  needs?: string | string[];
  steps: Step[];
  permissions?: Record<string, string>;
  strategy?: { matrix?: { include?: Record<string, string>[]; os?: string[] } };
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const files = readdirSync(DIR).filter((f) => f.endsWith(".yml"));
const workflows = new Map(files.map((f) => [f, parse(readFileSync(join(DIR, f), "utf8"), { strict: true, uniqueKeys: true }) as Workflow]));
const allSteps = [...workflows.values()].flatMap((w) => Object.values(w.jobs).flatMap((j) => j.steps));
const releaseFlags = new Set(Object.keys(RELEASE_OPTIONS).map((k) => `--${k}`));

/** Every `--flag` passed to scripts/release.ts in a run block (continuation lines joined). */
function releaseInvocations(run: string): string[][] {
  const joined = run.replace(/\\\n/g, " ");
  return [...joined.matchAll(/scripts\/release\.ts([^\n;&|]*)/g)].map((m) => [...m[1]!.matchAll(/(?:^|\s)(--[a-z-]+)/g)].map((f) => f[1]!));
}

describe("workflow files", () => {
  it("are ci.yml and release.yml, and parse as strict YAML with jobs and steps", () => {
    expect(files.sort()).toEqual(["ci.yml", "release.yml"]);
    for (const [f, w] of workflows) {
      expect(Object.keys(w.jobs).length, f).toBeGreaterThan(0);
      for (const [name, job] of Object.entries(w.jobs)) {
        expect(Array.isArray(job.steps), `${f}:${name}`).toBe(true);
        for (const n of [job.needs ?? []].flat()) expect(Object.keys(w.jobs), `${f}:${name} needs ${n}`).toContain(n);
      }
    }
  });

  it("pin every action by a full commit SHA, with the version in a comment", () => {
    const uses = allSteps.flatMap((s) => (s.uses ? [s.uses] : []));
    expect(uses.length).toBeGreaterThan(10);
    for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
    for (const f of files) {
      for (const line of readFileSync(join(DIR, f), "utf8").split("\n").filter((l) => l.includes("uses:"))) expect(line).toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    }
  });

  it("pass scripts/release.ts only flags it accepts", () => {
    const used = allSteps.flatMap((s) => (s.run ? releaseInvocations(s.run) : []));
    expect(used.length).toBe(3); // ci dry run, release --build-only, release --pack-only
    for (const flags of used) for (const f of flags) expect(releaseFlags).toContain(f);
    expect(used.flat()).toEqual(expect.arrayContaining(["--dry-run", "--targets", "--build-only", "--pack-only", "--version", "--repo", "--out"]));
  });

  it("run scripts that exist", () => {
    const runs = allSteps.flatMap((s) => (s.run ? [s.run] : [])).join("\n");
    for (const m of runs.matchAll(/(?:^|\s)((?:scripts|\.ci)\/[\w./-]+)/g)) expect(existsSync(join(ROOT, m[1]!)), m[1]).toBe(true);
  });
});

describe("ci.yml", () => {
  const ci = workflows.get("ci.yml")!;

  it("tests on Linux (the project's CI script), macOS and Windows", () => {
    expect(ci.jobs.linux!.steps.some((s) => s.run === "bash .ci/run")).toBe(true);
    expect(ci.jobs.native!.strategy!.matrix!.os).toEqual(["macos-15", "windows-latest"]);
    expect(ci.jobs.native!.steps.map((s) => s.run)).toContain("npm test");
  });

  it("runs the two-target release dry run and checks SHA256SUMS and the formula", () => {
    const run = ci.jobs.linux!.steps.map((s) => s.run ?? "").join("\n");
    expect(run).toContain("scripts/release.ts --dry-run --targets linux-x64,darwin-arm64");
    expect(run).toContain("sha256sum -c SHA256SUMS");
    expect(run).toContain("ruby -c mcp-credentials-broker.rb");
  });
});

describe("release.yml", () => {
  const rel = workflows.get("release.yml")!;
  const runOf = (job: string) => rel.jobs[job]!.steps.map((s) => s.run ?? "").join("\n");

  it("runs on v* tags with read-only default permissions", () => {
    expect(rel.on).toEqual({ push: { tags: ["v*"] } });
    expect(rel.permissions).toEqual({ contents: "read" });
    const writers = Object.entries(rel.jobs).filter(([, j]) => Object.values(j.permissions ?? {}).includes("write"));
    expect(writers.map(([n]) => n)).toEqual(["publish"]);
  });

  it("removes the signature of both macOS binaries, re-signs and verifies strictly, on macOS", () => {
    expect(rel.jobs["sign-macos"]!["runs-on"]).toMatch(/^macos-/);
    const run = runOf("sign-macos");
    expect(run).toContain("for t in darwin-arm64 darwin-x64");
    const order = ["codesign --remove-signature", "codesign --force --sign", "codesign --verify --strict"].map((c) => run.indexOf(c));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(rel.jobs.package!.needs).toEqual(["build", "sign-macos"]);
  });

  it("smoke-tests every target's archive on its native runner before publishing", () => {
    const include = rel.jobs.smoke!.strategy!.matrix!.include!;
    expect(include.map((m) => m.target).sort()).toEqual(TARGETS.map((t) => t.name).sort());
    expect(include.find((m) => m.target === "linux-arm64")!.os).toBe("ubuntu-24.04-arm");
    expect(include.find((m) => m.target === "darwin-x64")!.os).toBe("macos-15-intel");
    expect(runOf("smoke")).toContain("node scripts/smoke.mjs");
    expect(rel.jobs.publish!.needs).toBe("smoke");
  });

  it("attests provenance for SHA256SUMS and publishes from a draft", () => {
    const attest = rel.jobs.publish!.steps.find((s) => s.uses?.startsWith("actions/attest-build-provenance@"))!;
    expect(attest.with).toEqual({ "subject-checksums": "release/SHA256SUMS" });
    expect(rel.jobs.publish!.permissions).toEqual({ contents: "write", "id-token": "write", attestations: "write" });
    const run = runOf("publish");
    expect(run).toContain("sha256sum -c SHA256SUMS");
    expect(run.indexOf("--draft ")).toBeLessThan(run.indexOf("--draft=false"));
  });

  it("uploads every kind of file SHA256SUMS lists: archives, MCP Bundles and server.json", () => {
    const create = runOf("publish").split("gh release create")[1]!.split("gh release edit")[0]!;
    for (const asset of ["release/*.tar.gz", "release/*.zip", "release/*.mcpb", "release/server.json", "release/SHA256SUMS"]) expect(create).toContain(asset);
  });

  it("pushes formula and manifest to the tap and bucket named by repository variables, refusing placeholders", () => {
    const job = rel.jobs.packages!;
    expect(JSON.stringify(job)).toContain("vars.HOMEBREW_TAP_REPO");
    expect(JSON.stringify(job)).toContain("vars.SCOOP_BUCKET_REPO");
    const run = runOf("packages");
    expect(run).toContain("0".repeat(64));
    expect(run).toContain("tap/Formula/mcp-credentials-broker.rb");
    expect(run).toContain("bucket/bucket/mcp-credentials-broker.json");
  });
});
