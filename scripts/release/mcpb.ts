// MCP Bundles (.mcpb, formerly Desktop Extensions): one per target, a zip holding
// manifest.json, the target's binary under server/ and LICENSE, which Claude Desktop (and
// other hosts of the format) installs in one click, with a settings form built from the
// manifest's user_config. Spec: MANIFEST.md of anthropics/mcpb; schema: @anthropic-ai/mcpb.
import pkg from "../../package.json";
import { tools } from "../../src/mcp/tools/index.ts";
import { type ArchiveEntry, zip } from "./archive.ts";
import { BINARY, exeName, type ReleaseTarget } from "./targets.ts";
import { manifestEnv, manifestUserConfig } from "./user-config.ts";

/**
 * The manifest spec version we write: 0.2 is what `mcpb init` writes (mcpb 2.1's
 * DEFAULT_MANIFEST_VERSION), so hosts on older mcpb releases read it too; 0.3 and 0.4 add
 * icons, localization and `uv` servers, none of which a compiled binary needs.
 */
export const MCPB_MANIFEST_VERSION = "0.2";

/** Unversioned asset name, like the archives': mcp-credentials-broker-<target>.mcpb. */
export function bundleName(t: ReleaseTarget): string {
  return `${BINARY}-${t.name}.mcpb`;
}

/** The binary's path inside the bundle (anthropics/mcpb README, "Binary Bundle": server/). */
export function bundledExePath(t: ReleaseTarget): string {
  return `server/${exeName(t)}`;
}

/** `compatibility.platforms` takes Node's process.platform names. */
function hostPlatform(t: ReleaseTarget): "linux" | "darwin" | "win32" {
  return t.os === "windows" ? "win32" : t.os;
}

/**
 * The manifest's `tools`: name and description of every tool the broker registers, in
 * tools/list order, taken from the definitions src/mcp/server.ts registers (never typed twice).
 */
export function bundleTools(): { name: string; description: string }[] {
  return tools.map((t) => ({ name: t.name, description: t.description }));
}

export interface BundleInput {
  version: string;
  /** GitHub OWNER/NAME that hosts the releases (validated by the caller). */
  repo: string;
}

/** manifest.json for `t` as an object (JSON-serialisable, keys in a fixed order). */
export function renderManifest(t: ReleaseTarget, input: BundleInput): Record<string, unknown> {
  const home = `https://github.com/${input.repo}`;
  const owner = input.repo.split("/")[0]!;
  return {
    manifest_version: MCPB_MANIFEST_VERSION,
    name: BINARY,
    display_name: "MCP Credentials Broker",
    version: input.version,
    description: "MCP server that keeps AI agents' credentials out of their prompts",
    long_description: pkg.description,
    author: { name: owner, url: `https://github.com/${owner}` },
    repository: { type: "git", url: `${home}.git` },
    homepage: home,
    documentation: `${home}#readme`,
    support: `${home}/issues`,
    license: pkg.license,
    keywords: ["credentials", "secrets", "keychain", "oauth", "jwt"],
    server: {
      type: "binary",
      entry_point: bundledExePath(t),
      mcp_config: {
        // ${__dirname} is the unpacked bundle's directory (MANIFEST.md "Variable Substitution").
        // An absolute command, with the .exe spelled out, leaves nothing to a host's guessing.
        // No arguments: the broker serves MCP on stdio when it is given none.
        command: `\${__dirname}/${bundledExePath(t)}`,
        args: [],
        env: manifestEnv(),
      },
    },
    tools: bundleTools(),
    // One binary per bundle: the platform is the only thing a manifest can say about it (there
    // is no architecture field; the asset name carries it).
    compatibility: { platforms: [hostPlatform(t)] },
    user_config: manifestUserConfig(),
  };
}

/** What a bundle holds, in zip order: manifest.json, LICENSE, then the binary (mode 0755:
 * mcpb's unpack restores Unix modes from the zip's external attributes). */
export function bundleEntries(t: ReleaseTarget, input: BundleInput & { exe: Uint8Array; license: Uint8Array }): ArchiveEntry[] {
  return [
    { name: "manifest.json", data: Buffer.from(`${JSON.stringify(renderManifest(t, input), null, 2)}\n`), mode: 0o644 },
    { name: "LICENSE", data: input.license, mode: 0o644 },
    { name: bundledExePath(t), data: input.exe, mode: 0o755 },
  ];
}

/**
 * The .mcpb bytes. archive.ts's zip is deterministic, so the same binary, version and mtime
 * give the same bytes (`mcpb pack` stamps the current time instead). scripts/release.ts zips
 * bundleEntries with zipAsync, which writes the same bytes.
 */
export function packBundle(t: ReleaseTarget, input: BundleInput & { exe: Uint8Array; license: Uint8Array; mtime: number }): Uint8Array {
  return zip(bundleEntries(t, input), input.mtime);
}
