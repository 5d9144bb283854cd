// What `--version` reports: the version, commit and target embedded by scripts/build.ts.

declare const BUILD_VERSION: string | undefined;
declare const BUILD_COMMIT: string | undefined;
declare const BUILD_TARGET: string | undefined;

export interface BuildInfo {
  version: string;
  /** Short commit hash (with `-dirty` for an uncommitted tree), or "source" when not compiled. */
  commit: string;
  /** Release target name, e.g. linux-x64 or windows-x64. */
  target: string;
  /** True in a binary built by scripts/build.ts or scripts/release.ts; false under `bun src/main.ts`. */
  isCompiled: boolean;
}

/** Release target name for a platform/arch pair, as the release assets name it (linux-x64, darwin-arm64, windows-x64). */
export function targetName(platform: string, arch: string): string {
  return `${platform === "win32" ? "windows" : platform}-${arch}`;
}

/** The version embedded at build time (`--define BUILD_VERSION`), or the package's when run from source. */
export async function brokerVersion(): Promise<string> {
  if (typeof BUILD_VERSION === "string") return BUILD_VERSION;
  return (await import("../package.json")).version;
}

/** Version, commit and target of this binary; from source, the package version and the host target. */
export async function buildInfo(): Promise<BuildInfo> {
  const isCompiled = typeof BUILD_VERSION === "string";
  return {
    version: await brokerVersion(),
    commit: typeof BUILD_COMMIT === "string" ? BUILD_COMMIT : "source",
    target: typeof BUILD_TARGET === "string" ? BUILD_TARGET : targetName(process.platform, process.arch),
    isCompiled,
  };
}

/** The `--version` line: `mcp-credentials-broker 1.2.3 (commit 0123abcd4567, linux-x64)`. */
export function formatVersion(b: BuildInfo): string {
  return `mcp-credentials-broker ${b.version} (commit ${b.commit}, ${b.target})`;
}
