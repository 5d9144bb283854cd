// Linux keychain: the freedesktop Secret Service (GNOME Keyring, KWallet, KeePassXC) through
// `secret-tool store|lookup|clear` (attributes service + account, the payload on stdin), and
// `dbus-send` to read the default collection's Locked property.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BrokerError } from "../errors.ts";
import { firstLine, runHelper, type HelperResult } from "./exec.ts";
import type { KeychainItems, KeychainProbe } from "./keychain.ts";

export interface LinuxKeychainOptions {
  /** Absolute path of secret-tool, or null when it is not installed. */
  secretTool: string | null;
  /** Absolute path of dbus-send, or null when it is not installed. */
  dbusSend: string | null;
  /** The environment the helper runs in: the broker's inherited one (src/config.ts InheritedEnv; the helper needs the session's D-Bus address, HOME, locale). */
  env: Readonly<Record<string, string | undefined>>;
  /** Per item operation; long enough for a desktop unlock prompt to be answered. */
  timeoutMs?: number;
  /** For the Locked check, which is also how a missing Secret Service is detected. */
  probeTimeoutMs?: number;
}

const COLLECTION = "/org/freedesktop/secrets/aliases/default";
const INSTALL_HINT = "install libsecret-tools and dbus (Debian/Ubuntu: apt install libsecret-tools dbus; Fedora: dnf install libsecret dbus-tools)";
const UNLOCK_HINT = "unlock the keyring: log in to the desktop session, open Passwords and Keys (seahorse), or pipe its password to `gnome-keyring-daemon --replace --unlock`";

/** The Secret Service as KeychainItems. Never calls `secret-tool search`, which prints secrets in plain text. */
export class LinuxSecretService implements KeychainItems {
  readonly kind = "linux" as const;
  readonly description: string;
  // `secret-tool store` reads at most 8,191 bytes from stdin and stores that prefix with exit 0
  // ("password is too long" on stderr, libsecret 0.20): longer payloads are split below it.
  readonly maxItemChars = 8_000;
  readonly #opts: Required<LinuxKeychainOptions>;

  constructor(opts: LinuxKeychainOptions) {
    this.#opts = { ...opts, timeoutMs: opts.timeoutMs ?? 15_000, probeTimeoutMs: opts.probeTimeoutMs ?? 2_000 };
    this.description = `Secret Service (GNOME Keyring/KWallet) via ${opts.secretTool ?? "secret-tool (not installed)"}`;
  }

  async read(service: string, account: string): Promise<string | null> {
    const r = await this.#secretTool(["lookup", "service", service, "account", account]);
    if (r.code === 0) return r.stdout;
    // `lookup` exits 1 with empty output both for a missing item and for a locked
    // collection; the Locked property over D-Bus tells them apart.
    if (r.code === 1 && r.stdout === "") {
      await this.#throwUnlessReady("read");
      if (r.stderr.trim() === "") return null;
    }
    throw this.#failed("lookup", r);
  }

  async write(service: string, account: string, payload: string): Promise<void> {
    const r = await this.#secretTool(["store", `--label=${account} (${service})`, "service", service, "account", account], payload);
    if (r.code === 0 && !/too long/i.test(r.stderr)) return;
    if (r.code === 0) throw new BrokerError("BACKEND_UNAVAILABLE", "secret-tool truncated the item it was given. Report this: the broker splits values below secret-tool's limit.");
    await this.#throwUnlessReady("stored");
    // secret-tool's stderr is left out here: this call's stdin held a secret.
    throw new BrokerError("BACKEND_UNAVAILABLE", `secret-tool could not store the item (exit ${r.code}). Run \`mcp-credentials-broker doctor\`.`);
  }

  async remove(service: string, account: string): Promise<boolean> {
    const r = await this.#secretTool(["clear", "service", service, "account", account]);
    if (r.code === 0) return true;
    // `clear` of a missing item exits 1 too.
    if (r.code === 1) {
      await this.#throwUnlessReady("deleted");
      if (r.stderr.trim() === "") return false;
    }
    throw this.#failed("clear", r);
  }

  async probe(): Promise<KeychainProbe> {
    const { secretTool, dbusSend, env } = this.#opts;
    if (!secretTool) return { state: "unavailable", why: "secret-tool is not installed", fix: INSTALL_HINT };
    if (!dbusSend) return { state: "unavailable", why: "dbus-send is not installed", fix: INSTALL_HINT };
    const noSession = missingSessionBus(env, existsSync);
    if (noSession) return noSession;
    const r = await runHelper({
      command: dbusSend,
      args: ["--session", "--print-reply=literal", `--reply-timeout=${this.#opts.probeTimeoutMs}`, "--dest=org.freedesktop.secrets", COLLECTION, "org.freedesktop.DBus.Properties.Get", "string:org.freedesktop.Secret.Collection", "string:Locked"],
      env,
      timeoutMs: this.#opts.probeTimeoutMs + 1_000,
    }).catch((e: unknown) => e as BrokerError);
    if (r instanceof BrokerError) return { state: "unavailable", why: `the Secret Service did not answer within ${this.#opts.probeTimeoutMs} ms`, fix: "restart gnome-keyring-daemon, or run `mcp-credentials-broker doctor`" };
    return classifyLockedReply(r);
  }

  /** After a failed call: throws KEYCHAIN_LOCKED or BACKEND_UNAVAILABLE unless the keychain answers and is unlocked. */
  async #throwUnlessReady(op: "read" | "stored" | "deleted"): Promise<void> {
    const p = await this.probe();
    if (p.state === "locked") throw new BrokerError("KEYCHAIN_LOCKED", `The Secret Service keyring is locked, so the secret cannot be ${op}. To fix, ${UNLOCK_HINT}.`);
    if (p.state === "unavailable") throw new BrokerError("BACKEND_UNAVAILABLE", `The OS keychain is unavailable: ${p.why}. To fix, ${p.fix}.`);
  }

  #failed(op: string, r: HelperResult): BrokerError {
    const why = firstLine(r.stderr);
    return new BrokerError("BACKEND_UNAVAILABLE", `secret-tool ${op} failed (exit ${r.code}${why ? `: ${why}` : ""}). Run \`mcp-credentials-broker doctor\`.`);
  }

  #secretTool(args: string[], stdin?: string): Promise<HelperResult> {
    const { secretTool, env, timeoutMs } = this.#opts;
    if (!secretTool) throw new BrokerError("BACKEND_UNAVAILABLE", `secret-tool is not installed. To fix, ${INSTALL_HINT}.`);
    return runHelper({ command: secretTool, args, stdin, env, timeoutMs });
  }
}

/**
 * Without DBUS_SESSION_BUS_ADDRESS, $XDG_RUNTIME_DIR/bus or an X display (autolaunch) no
 * client can reach a session bus: say so without spawning anything.
 */
export function missingSessionBus(env: Readonly<Record<string, string | undefined>>, exists: (path: string) => boolean): KeychainProbe | null {
  if (env.DBUS_SESSION_BUS_ADDRESS) return null;
  if (env.XDG_RUNTIME_DIR && exists(join(env.XDG_RUNTIME_DIR, "bus"))) return null;
  if (env.DISPLAY) return null;
  return {
    state: "unavailable",
    why: "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)",
    fix: "run in a desktop session, or start a session bus with a Secret Service (dbus-run-session, then gnome-keyring-daemon --unlock)",
  };
}

/** Reads dbus-send's answer to Get(Collection.Locked) on the default collection. */
export function classifyLockedReply(r: HelperResult): KeychainProbe {
  if (r.code === 0) {
    if (/\bboolean false\b/.test(r.stdout)) return { state: "ready", detail: "Secret Service answers; default keyring unlocked" };
    if (/\bboolean true\b/.test(r.stdout)) return { state: "locked", detail: "Secret Service answers; default keyring locked", fix: UNLOCK_HINT };
  }
  const err = r.stderr;
  if (/Failed to open connection/i.test(err)) {
    return { state: "unavailable", why: `cannot connect to the D-Bus session bus (${firstLine(err, 120)})`, fix: "check DBUS_SESSION_BUS_ADDRESS, or run in a desktop session" };
  }
  if (/ServiceUnknown|NameHasNoOwner/.test(err)) {
    return { state: "unavailable", why: "no Secret Service on the D-Bus session (no gnome-keyring-daemon, KWallet or KeePassXC running)", fix: "install and start gnome-keyring (gnome-keyring-daemon --start --components=secrets)" };
  }
  if (/UnknownMethod|UnknownObject|does not exist/.test(err)) {
    return { state: "unavailable", why: "the Secret Service has no default keyring", fix: "create a default keyring (seahorse), or log in to the desktop session once" };
  }
  if (/NoReply|Timeout/i.test(err)) {
    return { state: "unavailable", why: "the Secret Service did not answer in time", fix: "restart gnome-keyring-daemon" };
  }
  return { state: "unavailable", why: `unexpected answer from dbus-send (exit ${r.code}${firstLine(err) ? `: ${firstLine(err)}` : ""})`, fix: "run `mcp-credentials-broker doctor`" };
}
