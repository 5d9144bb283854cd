// The five release targets: our name, Bun's compile target, and the asset names derived from it.

export interface ReleaseTarget {
  /** Our name: the dist/ folder, the asset suffix and BUILD_TARGET (`--version`). */
  name: string;
  /** Bun's `--target`. x64 uses the baseline (Nehalem) runtime: an I/O-bound broker loses
   * nothing, and it runs on CPUs and VMs without AVX2 (docs/release.md §Build flags). */
  bunTarget: string;
  os: "linux" | "darwin" | "windows";
  arch: "x64" | "arm64";
}

export const TARGETS: readonly ReleaseTarget[] = [
  { name: "linux-x64", bunTarget: "bun-linux-x64-baseline", os: "linux", arch: "x64" },
  { name: "linux-arm64", bunTarget: "bun-linux-arm64", os: "linux", arch: "arm64" },
  { name: "darwin-x64", bunTarget: "bun-darwin-x64", os: "darwin", arch: "x64" },
  { name: "darwin-arm64", bunTarget: "bun-darwin-arm64", os: "darwin", arch: "arm64" },
  { name: "windows-x64", bunTarget: "bun-windows-x64-baseline", os: "windows", arch: "x64" },
];

export const BINARY = "mcp-credentials-broker";

/** The executable's file name inside dist/<target>/ and inside the archive. The same basename
 * for every build matters: Bun embeds it (`/$bunfs/root/<name>`), so a different name gives
 * different bytes (docs/release.md §Build flags). */
export function exeName(t: ReleaseTarget): string {
  return t.os === "windows" ? `${BINARY}.exe` : BINARY;
}

/** Unversioned asset name, so `releases/latest/download/<name>` stays stable. tar.gz keeps the
 * executable bit; Windows users expect a zip. */
export function archiveName(t: ReleaseTarget): string {
  return `${BINARY}-${t.name}.${t.os === "windows" ? "zip" : "tar.gz"}`;
}

/** Parses `--targets` (comma- or space-separated); returns targets in table order. */
export function parseTargets(raw: string | undefined): ReleaseTarget[] {
  if (raw === undefined) return [...TARGETS];
  const names = new Set(raw.split(/[\s,]+/).filter(Boolean));
  const unknown = [...names].filter((n) => !TARGETS.some((t) => t.name === n));
  if (unknown.length) throw new Error(`unknown target ${unknown.join(", ")}; choose from ${TARGETS.map((t) => t.name).join(", ")}`);
  if (names.size === 0) throw new Error(`--targets is empty; choose from ${TARGETS.map((t) => t.name).join(", ")}`);
  return TARGETS.filter((t) => names.has(t.name));
}
