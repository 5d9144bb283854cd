// Opens a URL in the user's browser: the platform helper (or $BROWSER) by absolute path, the
// re-serialised URL as its one argument, never through a shell (CVE-2025-6514).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { safeHref } from "./url-policy.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** What finding a browser reads from the configuration (src/config.ts: `{ ...config.browser, path: config.path }`). */
export interface BrowserSettings {
  /** BROWSER, trimmed; unset when empty. */
  override?: string;
  /** DISPLAY or WAYLAND_DISPLAY is set. */
  display: boolean;
  /** SystemRoot (Windows). */
  systemRoot?: string;
  /** PATH (Path on Windows). */
  path: string;
}

/** The program and leading arguments that open a URL; the URL is appended as one more argument. */
export interface BrowserCommand {
  path: string;
  args: string[];
  /** For messages: "BROWSER", "xdg-open", … */
  label: string;
}

/**
 * Finds `name` on PATH as an absolute path (so a relative PATH entry cannot hijack it). On
 * Windows only executables qualify (.exe, .com): .cmd and .bat would need a shell.
 */
export function findOnPath(name: string, path: string, platform: string = process.platform): string | null {
  if (isAbsolute(name)) return existsSync(name) ? name : null;
  if (name.includes("/") || name.includes("\\")) return null;
  const names = platform === "win32" && !/\.(exe|com)$/i.test(name) ? [`${name}.exe`, `${name}.com`] : [name];
  for (const dir of path.split(platform === "win32" ? ";" : delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    for (const n of names) {
      const p = join(dir, n);
      if (existsSync(p)) return p;
    }
  }
  return null;
}

/**
 * The command that opens a browser here, or null when none can (no $BROWSER, and a Linux
 * session without a display — SSH, containers). `BROWSER` names one program (as `xdg-open`
 * and many CLIs honour it); it gets the URL as its only argument.
 */
export function browserCommand(settings: BrowserSettings, platform: string): BrowserCommand | null {
  const override = settings.override?.trim();
  if (override) {
    // xdg-utils allows a ':'-separated list; the first entry is the one to try.
    const first = platform === "win32" ? override : override.split(":")[0]!;
    const path = findOnPath(first, settings.path, platform);
    return path ? { path, args: [], label: "BROWSER" } : null;
  }
  if (platform === "darwin") return { path: "/usr/bin/open", args: [], label: "open" };
  if (platform === "win32") {
    const root = settings.systemRoot ?? "C:\\Windows";
    // url.dll's FileProtocolHandler takes the URL as its own argument: no cmd.exe `start`.
    return { path: `${root}\\System32\\rundll32.exe`, args: ["url.dll,FileProtocolHandler"], label: "rundll32" };
  }
  if (!settings.display) return null;
  const path = findOnPath("xdg-open", settings.path, platform);
  return path ? { path, args: [], label: "xdg-open" } : null;
}

/** Variables that may hold credentials: the browser (and $BROWSER) never needs them. */
const CREDENTIAL_VAR = /SECRET|TOKEN|PASSWORD|PASSPHRASE|CREDENTIAL|_KEY$|^MCB_/i;

/** The environment handed to the opener: ours minus anything that looks like a credential. */
export function openerEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !CREDENTIAL_VAR.test(k)) out[k] = v;
  return out;
}

/** How long to wait for the opener's exit status before assuming it is the browser itself. */
const OPENER_GRACE_MS = 3_000;

/**
 * Starts `cmd` with the re-serialised `url` as one argv element (no shell), detached, with
 * no stdio (in `serve`, stdout is JSON-RPC). Resolves true when it started and did not fail
 * within a few seconds. Throws UNSAFE_URL for a URL the policy refuses — before spawning.
 */
export async function openInBrowser(cmd: BrowserCommand, url: string, env: Env): Promise<boolean> {
  const href = safeHref(url, "URL to open");
  return new Promise<boolean>((resolve) => {
    let settled = false;
    const done = (ok: boolean) => {
      if (!settled) {
        settled = true;
        resolve(ok);
      }
    };
    const child = spawn(cmd.path, [...cmd.args, href], { shell: false, detached: true, stdio: "ignore", env: openerEnv(env), windowsHide: true });
    child.once("error", () => done(false));
    child.once("exit", (code) => done(code === 0));
    const t = setTimeout(() => {
      child.unref();
      done(true);
    }, OPENER_GRACE_MS);
    t.unref();
  });
}
