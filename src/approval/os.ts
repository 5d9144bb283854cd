// Picks this machine's OS approval dialog (osascript, zenity or kdialog, PowerShell) and says,
// for `doctor`, which approval drivers work here and why the others do not.
import { existsSync } from "node:fs";
import type { ApprovalDriver } from "../core/approval.ts";
import { findSystemTool, SYSTEM_BIN_DIRS, windowsPowerShellPath } from "../store/exec.ts";
import { dialogEnv, linuxDisplayProblem } from "./dialog.ts";
import { kdialogApprover } from "./kdialog.ts";
import { MACOS_OSASCRIPT, osascriptApprover } from "./osascript.ts";
import { powershellApprover } from "./powershell.ts";
import { zenityApprover } from "./zenity.ts";

export interface OsApprovalOptions {
  platform: string;
  env: Record<string, string | undefined>;
  timeoutMs: number;
  /** Looks a program up in the system directories (never PATH); tests point it elsewhere. */
  find?: (name: string) => string | null;
  exists?: (path: string) => boolean;
}

const LINUX_LIKE = new Set(["linux", "freebsd", "openbsd"]);

/**
 * The Linux dialog program: kdialog on a KDE desktop when installed, else zenity, else
 * kdialog; each by absolute path from the system directories (a PATH entry could be
 * hijacked, as for the keychain helpers).
 */
export function linuxDialogProgram(env: Record<string, string | undefined>, find: (name: string) => string | null): { id: "zenity" | "kdialog"; path: string } | null {
  const zenity = find("zenity");
  const kdialog = find("kdialog");
  const kde = /kde/i.test(env.XDG_CURRENT_DESKTOP ?? "");
  if (kdialog && (kde || !zenity)) return { id: "kdialog", path: kdialog };
  return zenity ? { id: "zenity", path: zenity } : null;
}

/**
 * This platform's OS dialog driver, or null where the broker has none. A driver that cannot
 * ask here (no display, program missing) is still returned: its `unavailable()` says why,
 * which the refusal and `doctor` repeat.
 */
export function osApprover(opts: OsApprovalOptions): ApprovalDriver | null {
  const exists = opts.exists ?? existsSync;
  const find = opts.find ?? ((name: string) => findSystemTool(name));
  const env = dialogEnv(opts.env);
  if (opts.platform === "darwin") return osascriptApprover({ env, timeoutMs: opts.timeoutMs, exists });
  if (opts.platform === "win32") return powershellApprover({ path: windowsPowerShellPath(opts.env), env, timeoutMs: opts.timeoutMs, exists });
  if (!LINUX_LIKE.has(opts.platform)) return null;
  const program = linuxDialogProgram(opts.env, find);
  const displayProblem = () => linuxDisplayProblem(opts.env, exists);
  if (!program) {
    return {
      id: "zenity",
      kind: "os",
      unavailable: () => `neither zenity nor kdialog is installed (looked in ${SYSTEM_BIN_DIRS.join(", ")})`,
      ask: async () => ({ answer: "unsupported", why: "no dialog program" }),
    };
  }
  const options = { path: program.path, env, timeoutMs: opts.timeoutMs, displayProblem };
  return program.id === "zenity" ? zenityApprover(options) : kdialogApprover(options);
}

/** One line of `doctor`'s approval section. */
export interface DriverReport {
  driver: "client" | "terminal" | "osascript" | "zenity" | "kdialog" | "powershell";
  /** "works": it can ask here now; "used": it is the one `--via os` / `any` uses. */
  works: boolean;
  used?: boolean;
  detail: string;
}

/**
 * Which approval drivers work here, and why the others do not: the OS dialogs of this
 * platform (each program, and the display), the MCP client's elicitation (decided by each
 * client when it connects) and the terminal (`secret get`).
 */
export function describeApprovalDrivers(opts: OsApprovalOptions & { isTty: boolean }): DriverReport[] {
  const exists = opts.exists ?? existsSync;
  const find = opts.find ?? ((name: string) => findSystemTool(name));
  const os = osApprover(opts);
  const reports: DriverReport[] = [];
  const other = (os: string) => `only on ${os}`;
  if (opts.platform === "darwin") {
    const why = os!.unavailable();
    reports.push({ driver: "osascript", works: why === null, used: true, detail: why ?? `${MACOS_OSASCRIPT} shows a dialog` });
  } else reports.push({ driver: "osascript", works: false, detail: other("macOS") });
  if (LINUX_LIKE.has(opts.platform)) {
    const chosen = linuxDialogProgram(opts.env, find);
    const display = linuxDisplayProblem(opts.env, exists);
    for (const id of ["zenity", "kdialog"] as const) {
      const path = find(id);
      const used = chosen?.id === id;
      if (!path) reports.push({ driver: id, works: false, detail: `not installed (install it: apt install ${id}, or your distribution's package)` });
      else if (display) reports.push({ driver: id, works: false, used, detail: `${path}: ${display}` });
      else reports.push({ driver: id, works: true, used, detail: `${path}${used ? "" : ` (installed, but ${chosen!.id} is used${chosen!.id === "kdialog" ? " on KDE" : ""})`}` });
    }
  } else {
    reports.push({ driver: "zenity", works: false, detail: other("Linux") }, { driver: "kdialog", works: false, detail: other("Linux") });
  }
  if (opts.platform === "win32") {
    const why = os!.unavailable();
    reports.push({ driver: "powershell", works: why === null, used: true, detail: why ?? `${windowsPowerShellPath(opts.env)} shows a MessageBox` });
  } else reports.push({ driver: "powershell", works: false, detail: other("Windows") });
  reports.push({ driver: "client", works: true, detail: "MCP form elicitation, when the MCP client declares it in `initialize` (each client decides when it connects)" });
  reports.push({ driver: "terminal", works: opts.isTty, detail: opts.isTty ? "`secret get` asks y/N on this terminal" : "no terminal here (stdin and stderr must be a TTY for `secret get` to ask)" });
  return reports;
}
