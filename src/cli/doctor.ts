// `doctor`: checks the installation — this binary, which MCP clients run it, the storage backend
// (which one and why, whether the OS keychain answers or is locked), the data dir's
// permissions and which approval drivers work here. Each check is a section; a section's
// problems make the exit code 1.
import { existsSync, realpathSync } from "node:fs";
import { buildInfo, formatVersion } from "../build-info.ts";
import { type ClientStatus, inspectClients } from "../mcp-clients/install.ts";
import { resolveCommandPath } from "../mcp-clients/stable-path.ts";
import type { Config } from "../config.ts";
import type { InstallDeps } from "../mcp-clients/install.ts";
import { diagnose, type Finding } from "../diagnostics.ts";
import { command, type Io } from "./command.ts";
import { jsonArg, storeArg } from "./common.ts";
import { terminalText } from "./terminal-text.ts";


interface Section {
  title: string;
  lines: string[];
  problems: string[];
  data: unknown;
}

function realpathOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

async function binarySection(): Promise<Section> {
  const info = await buildInfo();
  let configPath: string;
  try {
    configPath = resolveCommandPath({ flag: undefined, execPath: process.execPath, isCompiled: info.isCompiled, platform: process.platform, exists: existsSync }).path;
  } catch {
    configPath = "(running from source: no binary to point clients at)";
  }
  return {
    title: "binary",
    lines: [formatVersion(info), `path:          ${process.execPath}`, `path for MCP configs (what install writes): ${configPath}`],
    problems: [],
    data: { ...info, path: process.execPath, configPath },
  };
}

/** A config file may be a project's (an agent can write it): its command and paths are escaped. */
function describeClient(c: ClientStatus): string {
  const where = `${c.label} (${c.scope}) ${terminalText(c.file)}`;
  switch (c.state) {
    case "no-config":
      return `${where}: no config file`;
    case "not-installed":
      return `${where}: not installed`;
    case "unreadable":
      return `${where}: ${terminalText(String(c.error))}`;
    case "installed":
      return `${where}: installed → ${terminalText(String(c.command))}${c.pointsHere ? " (this binary)" : " (NOT this binary)"}`;
  }
}

function clientsSection(name: string, deps: InstallDeps): Section {
  const self = realpathOr(process.execPath);
  const rows = inspectClients(name, (cmd) => realpathOr(cmd) === self, deps.env);
  const problems = rows.flatMap((c) => {
    if (c.state === "unreadable") return [`${c.label}: ${c.error}`];
    if (c.state === "installed" && !c.pointsHere) return [`${c.label} runs ${terminalText(String(c.command))}, not this binary: run \`mcp-credentials-broker install ${c.client}${c.scope === "project" ? " --scope project" : ""} --force\` to point it here.`];
    return [];
  });
  return { title: "MCP clients", lines: rows.map(describeClient), problems, data: rows };
}

/** One line per finding (`ok`/`warn`/`fail`, the check, the message), then its fix; failures are problems. */
function findingsSection(title: string, findings: Finding[], data: unknown): Section {
  const lines = findings.flatMap((f) => [`${f.level.padEnd(5)} ${f.check.padEnd(11)} ${f.message}`, ...(f.fix ? [`${" ".repeat(18)}fix: ${f.fix}`] : [])]);
  const problems = findings.filter((f) => f.level === "fail").map((f) => (f.fix ? `${f.message} (fix: ${f.fix})` : f.message));
  return { title, lines, problems, data };
}

async function storageSections(storeFlag: string | undefined, cfg: Config): Promise<Section[]> {
  const d = await diagnose({ storeFlag, config: cfg, platform: cfg.platform, dataDir: cfg.dataDir, uid: process.getuid?.() });
  const dirChecks = ["data dir", "data files"];
  return [
    findingsSection("storage", d.findings.filter((f) => !dirChecks.includes(f.check)), { store: d.store, keychain: d.keychain, findings: d.findings.filter((f) => !dirChecks.includes(f.check)) }),
    findingsSection("data dir", d.findings.filter((f) => dirChecks.includes(f.check)), { path: d.dataDir, findings: d.findings.filter((f) => dirChecks.includes(f.check)) }),
  ];
}

/**
 * Which approval drivers can ask the user about a `confirm` secret here, and why the others
 * cannot. Information, not problems: a machine without a display still has the client's
 * elicitation and `run`.
 */
async function approvalSection(cfg: Config, io: Io): Promise<Section> {
  const { describeApprovalDrivers } = await import("../approval/os.ts");
  // The dialogs run in the inherited environment (the desktop session), as when a secret is read.
  const rows = describeApprovalDrivers({ platform: cfg.platform, env: cfg.inherited, timeoutMs: cfg.approvalTimeoutMs, isTty: io.stdinIsTTY && io.stderrIsTTY });
  const lines = rows.map((r) => `${(r.works ? "works" : "no").padEnd(5)} ${r.driver.padEnd(10)} ${terminalText(r.detail)}${r.works && r.used ? "  ← the OS dialog (--via os, and any when a display is available)" : ""}`);
  return { title: "approval", lines, problems: [], data: rows };
}

export const doctorCommand = command({
  examples: ["mcp-credentials-broker doctor", "mcp-credentials-broker doctor --json", "mcp-credentials-broker doctor --store keychain   # would the OS keychain work here?"],
  meta: { name: "doctor", description: "Check this installation: binary path and version, which MCP clients run it, the storage backend (which one, and why), the OS keychain (reachable, locked), the data dir's permissions, and which approval drivers (OS dialogs, MCP client, terminal) can ask about 'confirm' secrets here." },
  args: {
    ...jsonArg,
    ...storeArg,
    name: { type: "string", description: "Server name to look for in client configs (default: credentials)", valueHint: "name" },
  },
  async run({ args, config, io, installDeps, out }) {
    const sections = [await binarySection(), clientsSection(args.name ?? "credentials", await installDeps()), ...(await storageSections(args.store, config)), await approvalSection(config, io)];
    const problems = sections.flatMap((s) => s.problems);
    const code = problems.length ? 1 : 0;
    if (args.json) {
      out(JSON.stringify({ ...Object.fromEntries(sections.map((s) => [s.title, s.data])), problems }, null, 2));
      return code;
    }
    for (const s of sections) {
      out(`${s.title}:`);
      for (const l of s.lines) out(`  ${l}`);
    }
    out(problems.length ? `\n${problems.length} problem${problems.length > 1 ? "s" : ""}:\n${problems.map((p) => `  - ${p}`).join("\n")}` : "\nno problems found");
    return code;
  },
});
