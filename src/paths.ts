// Where the broker keeps its data: MCB_HOME, else the platform's per-user data dir.
import { statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/**
 * Returns the data directory from the variables that choose it (src/config.ts reads them).
 * MCB_HOME wins; otherwise XDG_DATA_HOME (or ~/.local/share) on Linux, Application Support
 * on macOS, %APPDATA% on Windows. An empty MCB_HOME is unset (an MCP Bundle host passes a
 * cleared settings field as "").
 */
export function resolveDataDir(vars: { readonly MCB_HOME?: string; readonly APPDATA?: string; readonly XDG_DATA_HOME?: string }, platform: string, home: string): string {
  if (vars.MCB_HOME) return vars.MCB_HOME;
  const app = "mcp-credentials-broker";
  if (platform === "darwin") return join(home, "Library", "Application Support", app);
  if (platform === "win32") return join(vars.APPDATA ?? join(home, "AppData", "Roaming"), app);
  return join(vars.XDG_DATA_HOME || join(home, ".local", "share"), app);
}

/** File names inside the data dir, in one place. */
export const dataFiles = {
  secrets: "secrets.jsonl",
  secretsLock: "secrets.lock",
  audit: "audit.jsonl",
  revoked: "revoked.jsonl",
  /** Names and metadata of the secrets kept in the OS keychain (never values); its changes tell other processes to drop cached reads. */
  keychainIndex: "keychain-index.json",
  keychainLock: "keychain.lock",
} as const;

/**
 * What keeps `dir` from being a directory: the deepest existing part of its path when that
 * is not a directory (a file named like MCB_HOME, or like one of its parents: mkdir(2)
 * fails with EEXIST or ENOTDIR); null when nothing is in the way.
 */
export function fileInTheWay(dir: string): string | null {
  for (let p = resolve(dir); ; p = dirname(p)) {
    try {
      return statSync(p).isDirectory() ? null : p;
    } catch {
      /* missing (or unreadable): look one level up */
    }
    if (dirname(p) === p) return null;
  }
}
