// The one TCP port parser: every flag (--port) and variable (PORT, MCB_CALLBACK_PORT) that
// names a port goes through it, so they accept the same values and refuse with the same words.
import { BrokerError } from "../errors.ts";

/** A TCP port a listener may bind and a URL may name: a whole number from 1 to 65535 (RFC 793 §3.1, 16 bits; 0 is "any port", never a usable address). */
export type Port = number & { readonly __tcpPort: unique symbol };

export const MIN_PORT = 1;
export const MAX_PORT = 65535;

/** True when `n` is a usable TCP port number. */
export function isPort(n: unknown): n is Port {
  return typeof n === "number" && Number.isInteger(n) && n >= MIN_PORT && n <= MAX_PORT;
}

/**
 * Parses the port in `raw`, given by the flag or variable `name` (`--port`, `PORT`,
 * `MCB_CALLBACK_PORT`): digits only, 1-65535. A bad value is INVALID_INPUT for a flag and
 * CONFIG_INVALID for a variable; the message names `name` and quotes at most 20 characters of
 * `raw` (a port is never a secret, but the environment is not ours to echo at length).
 */
export function parsePort(raw: string, name: string): Port {
  const text = raw.trim();
  const n = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (isPort(n)) return n;
  throw new BrokerError(
    name.startsWith("-") ? "INVALID_INPUT" : "CONFIG_INVALID",
    `${name} must be a TCP port number from ${MIN_PORT} to ${MAX_PORT} (got ${JSON.stringify(raw.slice(0, 20))}).`,
  );
}

/** `raw` parsed as a port when it is set and not empty, else undefined (an unset flag or variable). */
export function optionalPort(raw: string | undefined, name: string): Port | undefined {
  return raw === undefined || raw.trim() === "" ? undefined : parsePort(raw, name);
}
