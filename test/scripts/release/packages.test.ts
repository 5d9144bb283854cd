// Targets, the Homebrew formula and the Scoop manifest rendered from checksums: a real
// release refuses a missing platform; a dry run marks it with a placeholder.
import { describe, expect, it } from "bun:test";
import { PLACEHOLDER_SHA256 } from "../../../scripts/release/checksums.ts";
import { renderFormula } from "../../../scripts/release/formula.ts";
import { renderScoopManifest } from "../../../scripts/release/scoop.ts";
import { archiveName, exeName, parseTargets, TARGETS } from "../../../scripts/release/targets.ts";
import { checkReproducible } from "../../../scripts/release.ts";

const allSums = new Map(TARGETS.map((t, i) => [archiveName(t), String(i + 1).repeat(64)]));
const input = { version: "1.2.3", repo: "acme/mcp-credentials-broker", sums: allSums, allowMissing: false };

describe("targets", () => {
  it("names five unversioned assets: tar.gz for Linux and macOS, zip for Windows", () => {
    expect(TARGETS.map(archiveName)).toEqual([
      "mcp-credentials-broker-linux-x64.tar.gz",
      "mcp-credentials-broker-linux-arm64.tar.gz",
      "mcp-credentials-broker-darwin-x64.tar.gz",
      "mcp-credentials-broker-darwin-arm64.tar.gz",
      "mcp-credentials-broker-windows-x64.zip",
    ]);
    expect(TARGETS.map(exeName).filter((n) => n.endsWith(".exe"))).toEqual(["mcp-credentials-broker.exe"]);
    expect(TARGETS.map((t) => t.bunTarget)).toEqual(["bun-linux-x64-baseline", "bun-linux-arm64", "bun-darwin-x64", "bun-darwin-arm64", "bun-windows-x64-baseline"]);
  });

  it("parses --targets in table order, comma or space separated, without duplicates", () => {
    expect(parseTargets("windows-x64, linux-x64 linux-x64").map((t) => t.name)).toEqual(["linux-x64", "windows-x64"]);
    expect(parseTargets(undefined)).toHaveLength(5);
    expect(() => parseTargets(" , ")).toThrow("--targets is empty");
  });
});

describe("formula", () => {
  const text = renderFormula(input);

  it("puts each platform's url and sha256 in its on_os/on_cpu block", () => {
    const block = (os: string, cpu: string) => {
      const osPart = text.slice(text.indexOf(`on_${os} do`));
      const cpuPart = osPart.slice(osPart.indexOf(`on_${cpu} do`));
      return cpuPart.slice(0, cpuPart.indexOf("end"));
    };
    const base = "https://github.com/acme/mcp-credentials-broker/releases/download/v1.2.3";
    for (const [os, cpu, target] of [["macos", "arm", "darwin-arm64"], ["macos", "intel", "darwin-x64"], ["linux", "arm", "linux-arm64"], ["linux", "intel", "linux-x64"]] as const) {
      const t = TARGETS.find((x) => x.name === target)!;
      expect(block(os, cpu)).toContain(`url "${base}/${archiveName(t)}"`);
      expect(block(os, cpu)).toContain(`sha256 "${allSums.get(archiveName(t))}"`);
    }
    expect(text).toContain('version "1.2.3"');
    expect(text).toContain('homepage "https://github.com/acme/mcp-credentials-broker"');
    expect(text).toContain("strategy :github_latest");
  });

  it("refuses a missing platform in a real release, and marks it as a placeholder in a dry run", () => {
    const partial = new Map([...allSums].filter(([name]) => !name.includes("darwin-x64")));
    expect(() => renderFormula({ ...input, sums: partial })).toThrow("SHA256SUMS has no entry for mcp-credentials-broker-darwin-x64.tar.gz");
    expect(renderFormula({ ...input, sums: partial, allowMissing: true })).toContain(`sha256 "${PLACEHOLDER_SHA256}"`);
  });
});

describe("scoop manifest", () => {
  it("has the Windows url and hash, bin, checkver and a SHA256SUMS-based autoupdate", () => {
    const m = JSON.parse(renderScoopManifest(input));
    expect(m.architecture["64bit"]).toEqual({
      url: "https://github.com/acme/mcp-credentials-broker/releases/download/v1.2.3/mcp-credentials-broker-windows-x64.zip",
      hash: "5".repeat(64),
    });
    expect(m.bin).toBe("mcp-credentials-broker.exe");
    expect(m.checkver).toBe("github");
    expect(m.notes).toContain("current");
  });

  it("refuses a missing Windows hash in a real release", () => {
    const partial = new Map([...allSums].filter(([name]) => !name.endsWith(".zip")));
    expect(() => renderScoopManifest({ ...input, sums: partial })).toThrow("mcp-credentials-broker-windows-x64.zip");
  });
});

describe("reproducibility gate", () => {
  it("fails when two builds of a target differ, naming both hashes", () => {
    expect(() => checkReproducible("linux-x64", "a".repeat(64), "b".repeat(64))).toThrow(`linux-x64 is not reproducible: two builds gave ${"a".repeat(64)} and ${"b".repeat(64)}`);
    expect(() => checkReproducible("linux-x64", "a".repeat(64), "a".repeat(64))).not.toThrow();
  });
});
