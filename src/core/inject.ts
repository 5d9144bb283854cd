// `run` injection: parses `VAR=secret:<name>` specs and env files, resolves the secrets through the
// broker (one audited "inject" per secret) and builds the child's environment.
import { BrokerError } from "../errors.ts";
import type { Broker } from "./broker.ts";
import type { MaskedSecret } from "./mask.ts";

export const SECRET_PREFIX = "secret:";

/** One variable for the child: a secret to resolve, or a plain value from an env file. */
export type EnvBinding = { variable: string; secret: string } | { variable: string; value: string };

/**
 * Variables of the broker's own that a wrapped tool server must not inherit: the key to
 * the encrypted store and the JWT signing secret. An --env-file may still set them.
 */
export const WITHHELD_VARIABLES = ["MCB_STORE_KEY", "JWT_SECRET"] as const;

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses one `--env VAR=secret:<name>`. Plain values are refused: argv is visible to every process. */
export function parseEnvFlag(raw: string): EnvBinding {
  const eq = raw.indexOf("=");
  const variable = eq < 0 ? raw : raw.slice(0, eq);
  if (!VARIABLE.test(variable)) throw new BrokerError("INVALID_INPUT", `--env needs VAR=secret:<name> with a variable name of letters, digits and _ (got '${variable.slice(0, 64)}').`);
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
}

/**
 * Resolves every binding (env files first, then --env; a later binding of a variable wins)
 * and builds the child's environment on top of `base` minus WITHHELD_VARIABLES. Every
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
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !(WITHHELD_VARIABLES as readonly string[]).includes(k)) env[k] = v;
  const masked: MaskedSecret[] = [];
  const problems: { code: BrokerError["code"]; message: string }[] = [];
  for (const b of last.values()) {
    if ("value" in b) {
      env[b.variable] = b.value;
      continue;
    }
    try {
      const value = await broker.injectSecret(b.secret, b.variable, { client: "run", purpose });
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
  return { env, masked };
}

function missingSecret(name: string): string {
  return `no secret named '${name}'. Store it with \`mcp-credentials-broker secret set ${name}\`, or for an OAuth token log in with \`mcp-credentials-broker login <provider> --name ${name}\`; \`mcp-credentials-broker secret list\` shows the names.`;
}
