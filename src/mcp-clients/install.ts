// `install` / `uninstall` use cases: put the broker into an MCP client's config (through the
// client's own CLI when it is on PATH, else by a minimal edit of its file), take it out again,
// and report which clients have it (for `doctor`).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { writeFileAtomic } from "../files/atomic-write.ts";
import { BrokerError } from "../errors.ts";
import { type ClientEnv, type ClientId, CLIENT_IDS, CLIENTS, type ClientSpec, type Scope } from "./clients.ts";
import { parseConfig, type ParsedConfig, readEntry, removeEntry, setEntry } from "./config-file.ts";

export interface InstallDeps {
  env: ClientEnv;
  /** Absolute path of an executable on PATH, or undefined. */
  which(bin: string): string | undefined;
  /** Runs argv without a shell. */
  run(argv: string[]): { code: number; stdout: string; stderr: string };
  now(): number;
}

export interface InstallRequest {
  client: ClientId;
  /** The server's key in the config ("credentials" by default). */
  name: string;
  scope: Scope;
  /** Absolute path to write as the entry's `command` (already made stable). */
  command: string;
  force: boolean;
  dryRun: boolean;
}

export interface InstallOutcome {
  client: ClientSpec;
  file: string;
  action: "added" | "replaced" | "unchanged" | "removed" | "absent";
  method: "file" | "cli";
  /** The client CLI invocations run (or, in a dry run, that would run). */
  commands: string[][];
  backup?: string;
  /** Dry run of a file edit: the changed lines. */
  diff?: string;
}

/** Backups kept per config file (`<file>.bak-<UTC time>`). */
export const BACKUPS_KEPT = 5;

const BOM = "\uFEFF";

interface ConfigFile extends ParsedConfig {
  exists: boolean;
  mode: number | undefined;
  bom: string;
}

function readConfigFile(spec: ClientSpec, file: string): ConfigFile {
  if (!existsSync(file)) return { text: "", root: undefined, exists: false, mode: undefined, bom: "" };
  let text: string;
  let mode: number;
  try {
    text = readFileSync(file, "utf8");
    mode = statSync(file).mode & 0o777;
  } catch (e) {
    throw new BrokerError("IO_ERROR", `Cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? "error"}. Check its permissions.`, { cause: e });
  }
  const bom = text.startsWith(BOM) ? BOM : "";
  return { ...parseConfig(text.slice(bom.length), spec, file), exists: true, mode, bom };
}

function checkScope(spec: ClientSpec, scope: Scope): void {
  if (!spec.scopes.includes(scope)) throw new BrokerError("INVALID_INPUT", `${spec.label} has no ${scope} scope. Use --scope ${spec.scopes.join(" or --scope ")}.`);
}

/** The client's CLI when it applies: supported for this scope and on PATH. */
function cliFor(spec: ClientSpec, scope: Scope, deps: InstallDeps, forRemove: boolean): string | undefined {
  const cli = spec.cli;
  if (!cli || !cli.scopes.includes(scope) || (forRemove && !cli.remove)) return undefined;
  const path = deps.which(cli.bin);
  // A Windows .cmd/.bat shim runs only through cmd.exe; we never hand argv to a shell.
  if (!path || (deps.env.platform === "win32" && /\.(cmd|bat)$/i.test(path))) return undefined;
  return path;
}

function runCli(bin: string, argvs: string[][], deps: InstallDeps, file: string): void {
  for (const args of argvs) {
    const r = deps.run([bin, ...args]);
    if (r.code !== 0) {
      const shown = [basename(bin), ...args].join(" ");
      const detail = (r.stderr.trim() || r.stdout.trim()).slice(0, 500);
      throw new BrokerError("CLIENT_COMMAND_FAILED", `\`${shown}\` failed (exit ${r.code})${detail ? `: ${detail}` : ""}. Run it yourself to see why, or edit ${file} by hand.`);
    }
  }
}

function commandOf(entry: unknown): string | undefined {
  const c = (entry as { command?: unknown } | undefined)?.command;
  return typeof c === "string" ? c : undefined;
}

/** `<file>.bak-20261123T114500Z` (a suffix when that second is taken); keeps the newest BACKUPS_KEPT. */
function backup(file: string, cfg: ConfigFile, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  let path = `${file}.bak-${stamp}`;
  for (let i = 2; existsSync(path); i++) path = `${file}.bak-${stamp}-${i}`;
  writeFileAtomic(path, cfg.bom + cfg.text, cfg.mode ?? 0o600);
  const prefix = `${basename(file)}.bak-`;
  const old = readdirSync(dirname(file))
    .filter((n) => n.startsWith(prefix) && !n.endsWith(".tmp"))
    .sort()
    .slice(0, -BACKUPS_KEPT);
  for (const n of old) unlinkSync(join(dirname(file), n));
  return path;
}

/** Changed lines between two texts (common leading and trailing lines cut), for --dry-run. */
export function lineDiff(before: string, after: string): string {
  const a = before.split("\n");
  const b = after.split("\n");
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const removed = a.slice(head, a.length - tail).map((l) => `- ${l}`);
  const added = b.slice(head, b.length - tail).map((l) => `+ ${l}`);
  return [`@@ line ${head + 1} @@`, ...removed, ...added].join("\n");
}

/** Writes `text` over the config (backup first when it existed), after checking the edit parses. */
function commit(spec: ClientSpec, file: string, cfg: ConfigFile, text: string, deps: InstallDeps): string | undefined {
  try {
    if (!cfg.exists) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const saved = cfg.exists ? backup(file, cfg, deps.now()) : undefined;
    // Default 0600: entries may carry `env` values (docs/security.md §Client configs).
    writeFileAtomic(file, cfg.bom + text, cfg.mode ?? 0o600);
    return saved;
  } catch (e) {
    if (e instanceof BrokerError) throw e;
    throw new BrokerError("IO_ERROR", `Cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? "error"}. Check that its folder is writable by you.`, { cause: e });
  }
}

function verifyEdit(spec: ClientSpec, file: string, text: string, name: string, expected: unknown): void {
  const after = readEntry(parseConfig(text, spec, file), spec.key, name, file);
  if (JSON.stringify(after) !== JSON.stringify(expected)) throw new BrokerError("INTERNAL", `Refusing to write ${file}: the edited file did not read back as intended. Nothing was changed.`);
}

/** The client's config file for the request's scope, parsed, and our entry in it (if any). */
function locate(req: Pick<InstallRequest, "client" | "scope" | "name">, deps: InstallDeps) {
  const spec = CLIENTS[req.client];
  checkScope(spec, req.scope);
  const file = spec.file(req.scope, deps.env);
  const cfg = readConfigFile(spec, file);
  const existing = readEntry(cfg, spec.key, req.name, file);
  return { spec, file, cfg, existing, base: { client: spec, file, commands: [] as string[][] } };
}

/**
 * Adds (or with `force`, repoints) our server entry in the client's config. Idempotent: an
 * entry already running `command` is left alone. Never writes after a parse error.
 */
export function installClient(req: InstallRequest, deps: InstallDeps): InstallOutcome {
  const { spec, file, cfg, existing, base } = locate(req, deps);
  if (existing !== undefined) {
    const current = commandOf(existing);
    if (current === req.command) return { ...base, action: "unchanged", method: "file" };
    if (!req.force) {
      throw new BrokerError("CONFIG_CONFLICT", `${file} already has a server '${req.name}' running ${current ?? "something else"}. Re-run with --force to point it at ${req.command}, or choose another --name.`);
    }
  }
  const action = existing === undefined ? "added" : "replaced";
  const cli = cliFor(spec, req.scope, deps, false);
  if (cli) {
    const commands = spec.cli!.add(req.name, req.command, req.scope, existing !== undefined);
    if (!req.dryRun) runCli(cli, commands, deps, file);
    return { ...base, action, method: "cli", commands: commands.map((a) => [cli, ...a]) };
  }
  const entry = spec.entry(req.command);
  const text = setEntry(cfg, spec.key, req.name, entry, file);
  verifyEdit(spec, file, text, req.name, entry);
  if (req.dryRun) return { ...base, action, method: "file", diff: lineDiff(cfg.text, text) };
  return { ...base, action, method: "file", backup: commit(spec, file, cfg, text, deps) };
}

const OUR_BINARY = /(^|[\\/])mcp-credentials-broker(\.exe)?$/i;

/** Removes only our server entry; an entry that runs another program needs `force`. */
export function uninstallClient(req: Omit<InstallRequest, "command">, deps: InstallDeps): InstallOutcome {
  const { spec, file, cfg, existing, base } = locate(req, deps);
  if (existing === undefined) return { ...base, action: "absent", method: "file" };
  const current = commandOf(existing);
  if (!(current && OUR_BINARY.test(current)) && !req.force) {
    throw new BrokerError("CONFIG_CONFLICT", `The server '${req.name}' in ${file} runs ${current ?? "no command"}, not mcp-credentials-broker. Re-run with --force to remove it anyway.`);
  }
  const cli = cliFor(spec, req.scope, deps, true);
  if (cli) {
    const commands = [spec.cli!.remove!(req.name, req.scope)];
    if (!req.dryRun) runCli(cli, commands, deps, file);
    return { ...base, action: "removed", method: "cli", commands: commands.map((a) => [cli, ...a]) };
  }
  const text = removeEntry(cfg, spec.key, req.name, file)!;
  verifyEdit(spec, file, text, req.name, undefined);
  if (req.dryRun) return { ...base, action: "removed", method: "file", diff: lineDiff(cfg.text, text) };
  return { ...base, action: "removed", method: "file", backup: commit(spec, file, cfg, text, deps) };
}

export interface ClientStatus {
  client: ClientId;
  label: string;
  scope: Scope;
  file: string;
  state: "installed" | "not-installed" | "no-config" | "unreadable";
  command?: string;
  /** Whether the entry's command is this binary (per `isThisBinary`). */
  pointsHere?: boolean;
  error?: string;
}

/**
 * Where the server `name` is configured: every client's user config, plus project configs that
 * exist in the current directory. Never writes.
 */
export function inspectClients(name: string, isThisBinary: (command: string) => boolean, env: ClientEnv): ClientStatus[] {
  const out: ClientStatus[] = [];
  for (const id of CLIENT_IDS) {
    const spec = CLIENTS[id];
    for (const scope of spec.scopes) {
      const file = spec.file(scope, env);
      if (scope === "project" && !existsSync(file)) continue;
      const row = { client: id, label: spec.label, scope, file };
      try {
        const cfg = readConfigFile(spec, file);
        if (!cfg.exists) {
          out.push({ ...row, state: "no-config" });
          continue;
        }
        const command = commandOf(readEntry(cfg, spec.key, name, file));
        out.push(command === undefined ? { ...row, state: "not-installed" } : { ...row, state: "installed", command, pointsHere: isThisBinary(command) });
      } catch (e) {
        out.push({ ...row, state: "unreadable", error: e instanceof BrokerError ? e.message : String(e) });
      }
    }
  }
  return out;
}
