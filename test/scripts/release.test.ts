// scripts/release.ts end to end (acceptance 1 of issue 8): a dry run builds real binaries,
// archives, SHA256SUMS, a formula that `ruby -c` accepts and a Scoop manifest whose hashes
// come from SHA256SUMS. The dry run (linux-x64, darwin-arm64, windows-x64: without Windows the
// Scoop manifest would hold only a placeholder, so its "hashes from SHA256SUMS" would check
// nothing) is shared with release-bundles.test.ts, which checks its MCP Bundles and server.json.
import { beforeAll, describe, expect, it } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json";
import { parseSums, PLACEHOLDER_SHA256, sha256Hex } from "../../scripts/release/checksums.ts";
import { RELEASE_OPTIONS } from "../../scripts/release.ts";
import { suiteCanRun } from "../support/requirements.ts";
import { canRunLinuxBinary, DRY_RUN_TARGETS, type DryRun, release, releaseDryRun, ROOT } from "./release-dry-run.ts";

const BUILT: readonly string[] = DRY_RUN_TARGETS;

describe("release script: refusals (nothing is built)", () => {
  it("refuses a real release of a subset of targets, saying why and what to do", () => {
    const parent = mkdtempSync(join(tmpdir(), "mcb-rel-"));
    const out = join(parent, "out");
    const r = release(["--targets", "linux-x64", "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("only linux-x64 selected; a release ships all 5 targets");
    expect(r.stderr).toContain("no --repo OWNER/NAME");
    expect(r.stderr).toContain("--dry-run");
    expect(existsSync(out)).toBe(false);
    rmSync(parent, { recursive: true, force: true });
  });

  it.each([
    [["--targets", "linux-x64,solaris-sparc", "--dry-run"], 1, "unknown target solaris-sparc; choose from linux-x64, linux-arm64, darwin-x64, darwin-arm64, windows-x64"],
    [["--version", "1.2", "--dry-run"], 1, "is not MAJOR.MINOR.PATCH"],
    [["--version", '1.2.3"; system("x")', "--dry-run"], 1, "is not MAJOR.MINOR.PATCH"],
    [["--repo", "not a repo", "--dry-run"], 1, "is not OWNER/NAME"],
    [["--build-only", "--pack-only", "--dry-run"], 1, "exclude each other"],
    [["--frobnicate"], 2, "error:"],
  ])("%p exits %d", (args, code, message) => {
    const r = release(args as string[]);
    expect(r.code).toBe(code as number);
    expect(r.stderr).toContain(message as string);
  });

  it("--help documents every flag the script accepts", () => {
    const r = release(["--help"]);
    expect(r.code).toBe(0);
    for (const flag of Object.keys(RELEASE_OPTIONS)) if (flag !== "help") expect(r.stdout).toContain(`--${flag}`);
  });
});

describe.skipIf(!canRunLinuxBinary)("release script: dry run of linux-x64, darwin-arm64 and windows-x64", () => {
  let tmp: string, out: string, rel: string;
  let run: DryRun["run"];
  let sums: Map<string, string>;

  beforeAll(() => {
    const d = releaseDryRun();
    ({ out, rel, run, sums } = d);
    tmp = join(d.tmp, "release-test");
    mkdirSync(tmp);
  }, 300_000); // a cold ~/.bun/install/cache downloads each target's runtime (~100 MB) once

  it("builds each binary to <out>/<target>/ with the platform's executable format", () => {
    const magic = (t: string, exe: string) => readFileSync(join(out, t, exe)).subarray(0, 4).toString("hex");
    expect(magic("linux-x64", "mcp-credentials-broker")).toBe("7f454c46"); // ELF
    expect(magic("darwin-arm64", "mcp-credentials-broker")).toBe("cffaedfe"); // Mach-O 64-bit, little-endian
    expect(magic("windows-x64", "mcp-credentials-broker.exe").slice(0, 4)).toBe("4d5a"); // MZ
    expect(existsSync(join(out, ".repro"))).toBe(false);
  });

  it("passes the reproducibility gate for every target (two builds, one hash)", () => {
    for (const t of BUILT) expect(run.stderr).toMatch(new RegExp(`built ${t} \\([\\d,]+ bytes\\), reproducible: [0-9a-f]{64}`));
  });

  it("says which checks a real release would fail instead of failing the dry run", () => {
    expect(run.stderr).toContain("dry run: a release would refuse: only linux-x64, darwin-arm64, windows-x64 selected");
    expect(run.stderr).toContain("dry run: formula, Scoop manifest and server.json carry placeholder hashes for linux-arm64, darwin-x64");
  });

  it("runs the linux binary's --version from an empty directory with PATH=/usr/bin:/bin and no node_modules", () => {
    const bin = join(tmp, "isolated", "mcp-credentials-broker");
    mkdirSync(join(tmp, "isolated"));
    copyFileSync(join(out, "linux-x64", "mcp-credentials-broker"), bin);
    spawnSync("chmod", ["755", bin]);
    const cwd = mkdtempSync(join(tmpdir(), "mcb-empty-"));
    expect(readdirSync(cwd)).toEqual([]);
    const r = spawnSync(bin, ["--version"], { cwd, encoding: "utf8", env: { PATH: "/usr/bin:/bin", HOME: cwd } });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(new RegExp(`^mcp-credentials-broker ${pkg.version.replaceAll(".", "\\.")} \\(commit [0-9a-f]{12}(-dirty)?, linux-x64\\)$`));
    rmSync(cwd, { recursive: true, force: true });
  });

  it("ignores a .env in its working directory (--no-compile-autoload-dotenv)", () => {
    const cwd = mkdtempSync(join(tmpdir(), "mcb-dotenv-"));
    // Loaded, this would make every command fail: "Unknown store 'from-dotenv'".
    writeFileSync(join(cwd, ".env"), "MCB_STORE=from-dotenv\n");
    const r = spawnSync(join(out, "linux-x64", "mcp-credentials-broker"), ["status", "--json"], { cwd, encoding: "utf8", env: { PATH: "/usr/bin:/bin", HOME: cwd, MCB_HOME: join(cwd, "data") } });
    expect(r.stderr).not.toContain("from-dotenv");
    expect(r.status).toBe(0);
    rmSync(cwd, { recursive: true, force: true });
  });

  it("answers an MCP session over stdio (scripts/smoke.mjs, as the release workflow runs it)", () => {
    const r = spawnSync("node", ["scripts/smoke.mjs", join(out, "linux-x64", "mcp-credentials-broker"), "--expect-version", pkg.version], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("smoke: OK");
  });

  it("writes SHA256SUMS that matches every archive, bundle and server.json, and nothing else", () => {
    const archives = readdirSync(rel).filter((f) => f.endsWith(".tar.gz") || f.endsWith(".zip")).sort();
    expect(archives).toEqual(["mcp-credentials-broker-darwin-arm64.tar.gz", "mcp-credentials-broker-linux-x64.tar.gz", "mcp-credentials-broker-windows-x64.zip"]);
    const assets = readdirSync(rel).filter((f) => f !== "SHA256SUMS" && !f.endsWith(".rb") && f !== "mcp-credentials-broker.json").sort();
    expect(assets).toEqual([...archives, ...BUILT.map((t) => `mcp-credentials-broker-${t}.mcpb`), "server.json"].sort());
    expect([...sums.keys()].sort()).toEqual(assets);
    for (const a of assets) expect(sums.get(a)).toBe(sha256Hex(readFileSync(join(rel, a))));
    expect(run.stdout).toBe(readFileSync(join(rel, "SHA256SUMS"), "utf8"));
  });

  it("packs the binary (mode 755), README and LICENSE; the archived binary is the built one", () => {
    if (!suiteCanRun("release archives", ["tar", "unzip"], "apt-get install -y tar unzip")) return;
    const listing = spawnSync("tar", ["-tvzf", join(rel, "mcp-credentials-broker-linux-x64.tar.gz")], { encoding: "utf8" }).stdout;
    expect(listing).toMatch(/^-rwxr-xr-x 0\/0 .* mcp-credentials-broker$/m);
    expect(listing).toMatch(/^-rw-r--r-- 0\/0 .* LICENSE$/m);
    expect(listing).toMatch(/^-rw-r--r-- 0\/0 .* README\.md$/m);
    const x = join(tmp, "x");
    mkdirSync(x);
    expect(spawnSync("tar", ["-xzf", join(rel, "mcp-credentials-broker-darwin-arm64.tar.gz"), "-C", x]).status).toBe(0);
    expect(sha256Hex(readFileSync(join(x, "mcp-credentials-broker")))).toBe(sha256Hex(readFileSync(join(out, "darwin-arm64", "mcp-credentials-broker"))));
    expect(readFileSync(join(x, "LICENSE"), "utf8")).toBe(readFileSync(join(ROOT, "LICENSE"), "utf8"));

    const zip = join(rel, "mcp-credentials-broker-windows-x64.zip");
    expect(spawnSync("unzip", ["-tq", zip], { encoding: "utf8" }).stdout).toContain("No errors detected");
    expect(spawnSync("unzip", ["-Z", zip], { encoding: "utf8" }).stdout).toMatch(/^-rwxr-xr-x .* mcp-credentials-broker\.exe$/m);
    expect(spawnSync("unzip", ["-q", zip, "mcp-credentials-broker.exe", "-d", x]).status).toBe(0);
    expect(sha256Hex(readFileSync(join(x, "mcp-credentials-broker.exe")))).toBe(sha256Hex(readFileSync(join(out, "windows-x64", "mcp-credentials-broker.exe"))));
  });

  it("renders a Homebrew formula that `ruby -c` accepts, with the hashes from SHA256SUMS", () => {
    const formula = join(rel, "mcp-credentials-broker.rb");
    const text = readFileSync(formula, "utf8");
    for (const t of ["linux-x64", "darwin-arm64"]) {
      const asset = `mcp-credentials-broker-${t}.tar.gz`;
      expect(text).toContain(`url "https://github.com/OWNER/mcp-credentials-broker/releases/download/v${pkg.version}/${asset}"\n      sha256 "${sums.get(asset)}"`);
    }
    expect(text.split(PLACEHOLDER_SHA256).length - 1).toBe(2); // linux-arm64 and darwin-x64 were not built
    expect(text).toContain('bin.install "mcp-credentials-broker"');
    expect(text).toContain('assert_match version.to_s, shell_output("#{bin}/mcp-credentials-broker --version")');
    if (!suiteCanRun("formula syntax", ["ruby"], "apt-get install -y ruby")) return;
    const r = spawnSync("ruby", ["-c", formula], { encoding: "utf8" });
    expect(r.stdout.trim()).toBe("Syntax OK");
    expect(r.status).toBe(0);
  });

  it("renders a Scoop manifest that is valid JSON with the hash from SHA256SUMS", () => {
    const m = JSON.parse(readFileSync(join(rel, "mcp-credentials-broker.json"), "utf8"));
    expect(m.version).toBe(pkg.version);
    expect(m.architecture["64bit"]).toEqual({
      url: `https://github.com/OWNER/mcp-credentials-broker/releases/download/v${pkg.version}/mcp-credentials-broker-windows-x64.zip`,
      hash: sums.get("mcp-credentials-broker-windows-x64.zip"),
    });
    expect(m.bin).toBe("mcp-credentials-broker.exe");
    expect(m.checkver).toBe("github");
    expect(m.autoupdate.architecture["64bit"].url).toContain("/releases/download/v$version/mcp-credentials-broker-windows-x64.zip");
    expect(m.autoupdate.hash).toEqual({ url: "$baseurl/SHA256SUMS", regex: "$sha256\\s+\\*?$basename" });
    // Scoop's regex, applied to our SHA256SUMS line, finds the same hash.
    const line = readFileSync(join(rel, "SHA256SUMS"), "utf8");
    const re = new RegExp(m.autoupdate.hash.regex.replace("$sha256", "([a-fA-F0-9]{64})").replace("$basename", "mcp-credentials-broker-windows-x64\\.zip"));
    expect(re.exec(line)?.[1]).toBe(m.architecture["64bit"].hash);
  });

  it("--pack-only packs the same binary into an identical archive and bundle (what release.yml does after re-signing)", () => {
    // Into a second --out (the binary hard-linked), so the shared dry run's output stays as it was.
    const out2 = join(tmp, "repack");
    mkdirSync(join(out2, "darwin-arm64"), { recursive: true });
    linkSync(join(out, "darwin-arm64", "mcp-credentials-broker"), join(out2, "darwin-arm64", "mcp-credentials-broker"));
    const r = release(["--pack-only", "--dry-run", "--targets", "darwin-arm64", "--out", out2, "--version", pkg.version]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("built ");
    const again = parseSums(r.stdout);
    for (const asset of ["mcp-credentials-broker-darwin-arm64.tar.gz", "mcp-credentials-broker-darwin-arm64.mcpb"]) expect(again.get(asset)).toBe(sums.get(asset)!);
    expect([...again.keys()].sort()).toEqual(["mcp-credentials-broker-darwin-arm64.mcpb", "mcp-credentials-broker-darwin-arm64.tar.gz", "server.json"]);
  }, 60_000);
});
