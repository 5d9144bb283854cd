// `run` injection: parses `VAR=secret:<name>` specs and env files, resolves the secrets through the
// broker (one audited "inject" per secret) and builds the child's environment.
import { BrokerError } from "../errors.ts";
import type { Broker } from "./broker.ts";
import type { MaskedSecret } from "./mask.ts";

export const SECRET_PREFIX = "secret:";

/**
 * One variable for the child: a secret to resolve, a plain value from an env file, or
 * (`--env VAR` without `=`) the variable handed on from run's own environment.
 */
export type EnvBinding = { variable: string; secret: string } | { variable: string; value: string } | { variable: string; inherit: true };

/**
 * Credentials of the broker's own that a wrapped tool server does not inherit: the key to
 * the encrypted store, the JWT signing secret, and what the broker signs in with (provider
 * client secrets, a remote server's client secret, key file or identity token). The
 * server is someone else's code; the user hands one on deliberately with `--env VAR` (or
 * an --env-file line).
 */
export const WITHHELD_VARIABLES = ["MCB_STORE_KEY", "JWT_SECRET", "CLIENT_SECRET", "CLIENT_SECRET_FILE", "PRIVATE_KEY_FILE", "IDP_ID_TOKEN"] as const;

/** GITHUB_CLIENT_SECRET, OAUTH2_CLIENT_SECRET, IDP_CLIENT_SECRET, …: every provider's client secret (and a file of one). */
const WITHHELD_SUFFIX = /_CLIENT_SECRET(_FILE)?$/;

/** Whether `name` is one of the broker's credential variables (case-insensitive: Windows names are). */
export function isWithheldVariable(name: string): boolean {
  const upper = name.toUpperCase();
  return (WITHHELD_VARIABLES as readonly string[]).includes(upper) || WITHHELD_SUFFIX.test(upper);
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses one `--env VAR=secret:<name>`, or `--env VAR` to hand VAR on from this environment
 * (as `docker run -e VAR` does: only the name is in argv). Plain values are refused: argv is
 * visible to every process.
 */
export function parseEnvFlag(raw: string): EnvBinding {
  const eq = raw.indexOf("=");
  const variable = eq < 0 ? raw : raw.slice(0, eq);
  if (!VARIABLE.test(variable)) throw new BrokerError("INVALID_INPUT", `--env needs VAR=secret:<name> (or VAR alone, to pass it on) with a variable name of letters, digits and _ (got '${variable.slice(0, 64)}').`);
  if (eq < 0) return { variable, inherit: true };
  const rest = eq < 0 ? "" : raw.slice(eq + 1);
  if (!rest.startsWith(SECRET_PREFIX) || rest.length === SECRET_PREFIX.length) {
    // The text after '=' is not echoed: it may be a value typed by mistake.
    throw new BrokerError(
      "INVALID_INPUT",
      `--env ${variable}=… must be ${variable}=secret:<name>. A plain value does not belong on the command line (other processes can read it): put it in the environment or in an --env-file.`,
    );
  }
  return { variable, secret: rest.slice(SECRET_PREFIX.length) };
}

/**
 * Parses an env file: `VAR=value` lines, `#` comments, blank lines, an optional `export `,
 * values optionally in matching single or double quotes (taken literally, no escapes).
 * `VAR=secret:<name>` is resolved from the broker; anything else passes through.
 */
export function parseEnvFile(text: string, file: string): EnvBinding[] {
  const out: EnvBinding[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const body = line.startsWith("export ") ? line.slice(7).trimStart() : line;
    const eq = body.indexOf("=");
    const variable = eq < 0 ? "" : body.slice(0, eq).trim();
    // The line is not echoed: it may hold a value.
    if (!VARIABLE.test(variable)) throw new BrokerError("INVALID_INPUT", `${file}:${i + 1} is not VAR=value (VAR: letters, digits and _, not starting with a digit).`);
    let value = body.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) value = value.slice(1, -1);
    if (value.startsWith(SECRET_PREFIX)) {
      const secret = value.slice(SECRET_PREFIX.length).trim();
      if (!secret) throw new BrokerError("INVALID_INPUT", `${file}:${i + 1}: ${variable}=secret: needs a secret name after 'secret:'.`);
      out.push({ variable, secret });
    } else {
      out.push({ variable, value });
    }
  }
  return out;
}

/** What `run` gives the child: its environment, and the injected values to mask in its output. */
export interface Injection {
  env: Record<string, string>;
  masked: MaskedSecret[];
  /** Names of the broker's credential variables that were set here and not handed on (never values). */
  withheld: string[];
}

/**
 * Resolves every binding (env files first, then --env; a later binding of a variable wins)
 * and builds the child's environment on top of `base` minus the broker's credential
 * variables (isWithheldVariable) that no binding hands on. Every
 * secret is tried, so one error names all that are missing; nothing is returned unless
 * all resolve, and the child is never started with a partial environment.
 */
export async function resolveInjection(broker: Broker, bindings: EnvBinding[], base: Record<string, string | undefined>, purpose: string): Promise<Injection> {
  const last = new Map<string, EnvBinding>();
  for (const b of bindings) {
    last.delete(b.variable);
    last.set(b.variable, b);
  }
  const env: Record<string, string> = {};
  const withheld: string[] = [];
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined) continue;
    if (isWithheldVariable(k)) withheld.push(k);
    else env[k] = v;
  }
  const masked: MaskedSecret[] = [];
  const problems: { code: BrokerError["code"]; message: string }[] = [];
  for (const b of last.values()) {
    if ("value" in b) {
      if (b.value.includes("\0")) problems.push({ code: "COMMAND_FAILED", message: holdsNul(b.variable, "its value from the env file") });
      else env[b.variable] = b.value;
      continue;
    }
    if ("inherit" in b) {
      // Unset here → unset in the child, as with `docker run -e VAR`.
      const v = base[b.variable];
      if (v !== undefined) env[b.variable] = v;
      continue;
    }
    try {
      const value = await broker.injectSecret(b.secret, b.variable, { client: "run", purpose });
      if (value.includes("\0")) {
        problems.push({ code: "COMMAND_FAILED", message: holdsNul(b.variable, `the secret '${b.secret}'`) });
        continue;
      }
      env[b.variable] = value;
      masked.push({ label: b.variable, value });
    } catch (e) {
      if (!(e instanceof BrokerError)) throw e;
      problems.push({ code: e.code, message: `${b.variable}: ${e.code === "NOT_FOUND" ? missingSecret(b.secret) : e.message}` });
    }
  }
  if (problems.length > 0) {
    throw new BrokerError(problems[0]!.code, `Not starting the command: ${problems.length === 1 ? problems[0]!.message : `\n  ${problems.map((p) => p.message).join("\n  ")}`}`);
  }
  return { env, masked, withheld: withheld.filter((k) => !last.has(k)).sort() };
}

/**
 * Why `variable` cannot be set: an environment string ends at its first NUL byte (POSIX.1-2017
 * XBD §8.1, execve(2)), so the command would get a cut value — Node and Bun refuse to spawn
 * with one. Names the variable and where the value came from, never the value.
 */
function holdsNul(variable: string, source: string): string {
  return `${variable}: ${source} contains a NUL byte, which an environment variable cannot hold. Give the command that value another way (in a file it reads, or on its stdin), or store it without NUL bytes (e.g. base64-encoded).`;
}

function missingSecret(name: string): string {
  return `no secret named '${name}'. Store it with \`mcp-credentials-broker secret set ${name}\`, or for an OAuth token log in with \`mcp-credentials-broker login <provider> --name ${name}\`; \`mcp-credentials-broker secret list\` shows the names.`;
}
