// `doctor`: checks the installation — this binary, and which MCP clients run it. Each check is
// a section; a section's problems make the exit code 1.
import { defineCommand } from "citty";
import { existsSync, realpathSync } from "node:fs";
import { buildInfo, formatVersion } from "../build-info.ts";
import { type ClientStatus, inspectClients } from "../clients/install.ts";
import { resolveCommandPath } from "../clients/stable-path.ts";
import { installDeps } from "../deps.ts";
import { jsonArg, out } from "./common.ts";
import { examples } from "./run-cli.ts";

examples.set("doctor", ["mcp-credentials-broker doctor", "mcp-credentials-broker doctor --json"]);

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

function describeClient(c: ClientStatus): string {
  const where = `${c.label} (${c.scope}) ${c.file}`;
  switch (c.state) {
    case "no-config":
      return `${where}: no config file`;
    case "not-installed":
      return `${where}: not installed`;
    case "unreadable":
      return `${where}: ${c.error}`;
    case "installed":
      return `${where}: installed → ${c.command}${c.pointsHere ? " (this binary)" : " (NOT this binary)"}`;
  }
}

function clientsSection(name: string): Section {
  const self = realpathOr(process.execPath);
  const rows = inspectClients(name, (cmd) => realpathOr(cmd) === self, installDeps().env);
  const problems = rows.flatMap((c) => {
    if (c.state === "unreadable") return [`${c.label}: ${c.error}`];
    if (c.state === "installed" && !c.pointsHere) return [`${c.label} runs ${c.command}, not this binary: run \`mcp-credentials-broker install ${c.client}${c.scope === "project" ? " --scope project" : ""} --force\` to point it here.`];
    return [];
  });
  return { title: "MCP clients", lines: rows.map(describeClient), problems, data: rows };
}

export const doctorCommand = defineCommand({
  meta: { name: "doctor", description: "Check this installation: binary path and version, and which MCP clients run it." },
  args: {
    ...jsonArg,
    name: { type: "string", description: "Server name to look for in client configs (default: credentials)", valueHint: "name" },
  },
  async run({ args }) {
    const sections = [await binarySection(), clientsSection(args.name ?? "credentials")];
    const problems = sections.flatMap((s) => s.problems);
    if (problems.length) process.exitCode = 1;
    if (args.json) return out(JSON.stringify({ ...Object.fromEntries(sections.map((s) => [s.title, s.data])), problems }, null, 2));
    for (const s of sections) {
      out(`${s.title}:`);
      for (const l of s.lines) out(`  ${l}`);
    }
    out(problems.length ? `\n${problems.length} problem${problems.length > 1 ? "s" : ""}:\n${problems.map((p) => `  - ${p}`).join("\n")}` : "\nno problems found");
  },
});
