// Renders the Scoop manifest (bucket file bucket/mcp-credentials-broker.json) from SHA256SUMS.
// Keys per ScoopInstaller/Scoop schema.json; autoupdate reads the hash from the release's
// SHA256SUMS with an explicit regex (docs/release.md §Homebrew and Scoop).
import { archiveName, TARGETS } from "./targets.ts";
import { hashFor, type PackageInput, releaseBase } from "./formula.ts";

/** The manifest as pretty-printed JSON. */
export function renderScoopManifest(input: PackageInput): string {
  const win = TARGETS.find((t) => t.name === "windows-x64")!;
  const asset = archiveName(win);
  const manifest = {
    version: input.version,
    description: "MCP server that keeps AI agents' credentials out of their prompts",
    homepage: `https://github.com/${input.repo}`,
    license: "MIT",
    architecture: {
      "64bit": { url: `${releaseBase(input)}/${asset}`, hash: hashFor(input, win) },
    },
    bin: "mcp-credentials-broker.exe",
    // Scoop's `current` junction survives updates; the versioned folder ($dir) does not.
    notes: "MCP config path (stable across updates): $dir\\..\\current\\mcp-credentials-broker.exe — or run: mcp-credentials-broker install <client>",
    checkver: "github",
    autoupdate: {
      architecture: {
        "64bit": { url: `https://github.com/${input.repo}/releases/download/v$version/${asset}` },
      },
      hash: { url: "$baseurl/SHA256SUMS", regex: "$sha256\\s+\\*?$basename" },
    },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
