// macOS keychain: generic-password items (service, account = secret name) through
// /usr/bin/security. Reads and deletes pass only names in argv; writes go through
// `security -i`, which reads its command line from stdin, so a value never reaches argv
// (`add-generic-password -w <value>` as arguments would be visible in `ps`).
import { BrokerError } from "../errors.ts";
import { firstLine, runHelper, type HelperResult } from "./exec.ts";
import type { KeychainItem, KeychainItems, KeychainProbe } from "./keychain.ts";

/** The production helper: by absolute path, never looked up on PATH. */
export const MACOS_SECURITY = "/usr/bin/security";

export interface MacKeychainOptions {
  /** Absolute path of `security`; tests point it at a recording fake. */
  security?: string;
  /** The environment the helper runs in: the broker's inherited one (src/config.ts InheritedEnv; the helper needs HOME and the user's session). */
  env: Readonly<Record<string, string | undefined>>;
  /** Per call; long enough for a keychain access prompt to be answered. */
  timeoutMs?: number;
}

// `security` exits with the low byte of the OSStatus (docs/architecture.md §Keychain backends).
const ITEM_NOT_FOUND = 44; // errSecItemNotFound (-25300)
const INTERACTION_NOT_ALLOWED = 36; // errSecInteractionNotAllowed (-25308): locked, or no UI to ask
const AUTH_FAILED = 51; // errSecAuthFailed (-25293)
const USER_CANCELED = 128; // userCanceledErr (-128)

/** `security -i` reads lines into a 4,096-byte buffer (SecurityTool/security.c, MAX_LINE_LEN). */
const MAX_INTERACTIVE_LINE = 4096;

/** The macOS keychain as KeychainItems. */
export class MacKeychain implements KeychainItems {
  readonly kind = "macos" as const;
  readonly description: string;
  // Leaves room on one `security -i` line for the service, a 256-character name and quoting.
  readonly maxItemChars = 2048;
  readonly #security: string;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #timeoutMs: number;

  constructor(opts: MacKeychainOptions) {
    this.#security = opts.security ?? MACOS_SECURITY;
    this.#env = opts.env;
    this.#timeoutMs = opts.timeoutMs ?? 20_000;
    this.description = `macOS default keychain via ${this.#security}`;
  }

  async read(service: string, account: string): Promise<string | null> {
    const r = await this.#run(["find-generic-password", "-s", service, "-a", account, "-w"]);
    if (r.code === ITEM_NOT_FOUND) return null;
    if (r.code !== 0) throw statusError(r, "read", true);
    // Our payloads are ASCII; anything else (security prints non-ASCII data as hex) fails to decode later.
    return r.stdout.replace(/\n$/, "");
  }

  async write(service: string, account: string, payload: string): Promise<void> {
    await this.writeMany([{ service, account, payload }]);
  }

  /** Adds (or updates) every item, then prints each back, in one `security -i` run. */
  async writeMany(items: readonly KeychainItem[]): Promise<void> {
    const lines: string[] = [];
    for (const { service, account, payload } of items) lines.push(`add-generic-password -U -s ${quote(service)} -a ${quote(account)} -w ${quote(payload)}`);
    // `security -i` may exit 0 even when a command failed, so the read-back is what proves the write.
    for (const { service, account } of items) lines.push(findLine(service, account));
    checkLines(lines, items[0]?.account ?? "");
    const r = await this.#run(["-i"], `${lines.join("\n")}\n`);
    if (r.stdout === items.map((i) => `${i.payload}\n`).join("")) return;
    // In -i mode a failed command is reported as "<command>: returned <status>" on stderr;
    // only that number is used: this call's stdin held the value, so stderr is never echoed.
    const status = Number(/add-generic-password: returned (\d+)/.exec(r.stderr)?.[1] ?? r.code);
    if (status !== 0 && status !== ITEM_NOT_FOUND) throw statusError({ ...r, code: status }, "store", false);
    throw new BrokerError("BACKEND_UNAVAILABLE", `${this.#security} did not store the item (exit ${r.code}). Run \`mcp-credentials-broker doctor\`; the keychain may be locked or read-only.`);
  }

  /** Prints every item in one `security -i` run; falls back to one run per item when one is missing. */
  async readMany(keys: readonly Omit<KeychainItem, "payload">[]): Promise<(string | null)[]> {
    const lines = keys.map((k) => findLine(k.service, k.account));
    checkLines(lines, keys[0]?.account ?? "");
    const r = await this.#run(["-i"], `${lines.join("\n")}\n`);
    const out = r.stdout.split("\n").slice(0, -1);
    if (!/returned \d+/.test(r.stderr) && out.length === keys.length) return out;
    const one: (string | null)[] = [];
    for (const k of keys) one.push(await this.read(k.service, k.account));
    return one;
  }

  async remove(service: string, account: string): Promise<boolean> {
    const r = await this.#run(["delete-generic-password", "-s", service, "-a", account]);
    if (r.code === 0) return true;
    if (r.code === ITEM_NOT_FOUND) return false;
    throw statusError(r, "delete", true);
  }

  async probe(): Promise<KeychainProbe> {
    let r: HelperResult;
    try {
      r = await this.#run(["default-keychain"], undefined, 5_000);
    } catch (e) {
      return { state: "unavailable", why: (e as Error).message, fix: "run `mcp-credentials-broker doctor` in a terminal on this Mac" };
    }
    if (r.code === 0) return { state: "ready", detail: `default keychain ${r.stdout.trim().replace(/^"|"$/g, "")}` };
    if (r.code === INTERACTION_NOT_ALLOWED) return { state: "locked", detail: "the default keychain is locked", fix: "security unlock-keychain" };
    return { state: "unavailable", why: `no default keychain (${firstLine(r.stderr) || `exit ${r.code}`})`, fix: "create or select one in Keychain Access, or run `security default-keychain -s login.keychain`" };
  }

  #run(args: string[], stdin?: string, timeoutMs = this.#timeoutMs): Promise<HelperResult> {
    return runHelper({ command: this.#security, args, stdin, env: this.#env, timeoutMs });
  }
}

/** Quotes one argument for `security -i`: double quotes, with `"` and `\` escaped by a backslash. */
export function quote(arg: string): string {
  return `"${arg.replace(/["\\]/g, "\\$&")}"`;
}

function findLine(service: string, account: string): string {
  return `find-generic-password -s ${quote(service)} -a ${quote(account)} -w`;
}

/** Every -i line must fit security's line buffer and hold no line break (names never hold control characters). */
function checkLines(lines: readonly string[], name: string): void {
  for (const line of lines) {
    if (/[\0\r\n]/.test(line)) throw new BrokerError("INVALID_INPUT", "A keychain item name must not contain line breaks or NUL.");
    if (Buffer.byteLength(line) >= MAX_INTERACTIVE_LINE) {
      throw new BrokerError("INVALID_INPUT", `The secret name '${name}' is too long for the macOS keychain backend. Choose a shorter name.`);
    }
  }
}

function statusError(r: HelperResult, op: "read" | "store" | "delete", showStderr: boolean): BrokerError {
  if (r.code === INTERACTION_NOT_ALLOWED) {
    return new BrokerError("KEYCHAIN_LOCKED", `The macOS keychain is locked, or cannot ask for permission here (no GUI session, e.g. over SSH), so the secret cannot be ${op === "store" ? "stored" : op === "read" ? "read" : "deleted"}. Unlock it with \`security unlock-keychain\` and retry.`);
  }
  if (r.code === AUTH_FAILED || r.code === USER_CANCELED) {
    return new BrokerError("KEYCHAIN_DENIED", `macOS denied access to the keychain item${r.code === USER_CANCELED ? " (the prompt was cancelled)" : ""}. Allow access when asked, or in Keychain Access grant it to /usr/bin/security.`);
  }
  const why = showStderr ? firstLine(r.stderr) : "";
  return new BrokerError("BACKEND_UNAVAILABLE", `/usr/bin/security could not ${op} the item (exit ${r.code}${why ? `: ${why}` : ""}). Run \`mcp-credentials-broker doctor\`.`);
}
