// Which path to write into a client's config: one that survives package-manager upgrades.
// A compiled Bun binary's process.execPath has symlinks resolved, so under Homebrew it names
// the versioned Cellar folder that `brew upgrade` + cleanup deletes (README.md §Add it to your MCP client).
import { posix } from "node:path";
import { BrokerError } from "../errors.ts";

export type PathOrigin = "homebrew" | "scoop" | "as-is";

export interface StablePath {
  path: string;
  origin: PathOrigin;
}

// <prefix>/Cellar/mcp-credentials-broker/<version>/bin/mcp-credentials-broker; the prefix is
// the Cellar's parent in every standard layout (/opt/homebrew, /usr/local, ~linuxbrew/.linuxbrew).
const HOMEBREW = /^(.*)\/Cellar\/mcp-credentials-broker\/[^/]+\/bin\/mcp-credentials-broker$/;
// …\scoop\apps\mcp-credentials-broker\<version>\mcp-credentials-broker.exe; `current` is a
// junction Scoop repoints at each update.
const SCOOP = /^(.*[\\/]apps[\\/]mcp-credentials-broker)([\\/])[^\\/]+[\\/]mcp-credentials-broker\.exe$/i;

/**
 * The path to put in an MCP config for the binary at `execPath`: Homebrew's `opt` link for a
 * Cellar path, Scoop's `current` folder for a versioned Scoop path, else `execPath` itself.
 */
export function stableCommandPath(execPath: string): StablePath {
  const brew = HOMEBREW.exec(execPath);
  if (brew) return { path: `${brew[1]}/opt/mcp-credentials-broker/bin/mcp-credentials-broker`, origin: "homebrew" };
  const scoop = SCOOP.exec(execPath);
  if (scoop) {
    const [, app, sep] = scoop;
    return { path: `${app}${sep}current${sep}mcp-credentials-broker.exe`, origin: "scoop" };
  }
  return { path: execPath, origin: "as-is" };
}

export interface CommandPathInput {
  /** `--command-path`, when given. */
  flag: string | undefined;
  execPath: string;
  /** False under `bun src/main.ts`, where execPath is Bun itself. */
  isCompiled: boolean;
  platform: string;
  exists(path: string): boolean;
}

/**
 * The command to write into a client config: `--command-path` (absolute and existing), else the
 * stable form of this binary's path when that path exists (custom Homebrew layouts fall back
 * to execPath).
 */
export function resolveCommandPath(input: CommandPathInput): StablePath {
  // On Windows, `\tools\x.exe` is relative to the current drive: require a drive or a UNC path.
  const isAbsolute = input.platform === "win32" ? (p: string) => /^([A-Za-z]:[\\/]|\\\\)/.test(p) : posix.isAbsolute;
  if (input.flag !== undefined) {
    if (!isAbsolute(input.flag)) throw new BrokerError("INVALID_INPUT", `--command-path must be an absolute path (MCP clients start servers from a directory of their choosing); got ${input.flag}.`);
    if (!input.exists(input.flag)) throw new BrokerError("INVALID_INPUT", `--command-path ${input.flag} does not exist. Point it at the mcp-credentials-broker binary.`);
    return { path: input.flag, origin: "as-is" };
  }
  if (!input.isCompiled) throw new BrokerError("INVALID_INPUT", "Running from source, this process is Bun, not the broker: pass --command-path with the absolute path of the compiled binary (npm run build → dist/mcp-credentials-broker).");
  const stable = stableCommandPath(input.execPath);
  return stable.origin === "as-is" || input.exists(stable.path) ? stable : { path: input.execPath, origin: "as-is" };
}
