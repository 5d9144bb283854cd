// The audit log port: one JSON line per credential operation, hash-chained (and keyed), never
// a value — at most its HMAC fingerprint. This file holds what a line is and the chain's rules;
// src/files/audit-log.ts appends lines to audit.jsonl, src/files/audit-reader.ts reads them back.
import { createHmac, hash } from "node:crypto";
import type { BrokerError } from "../errors.ts";
import type { Policy } from "./store.ts";

export type AuditEvent =
  | "get"
  | "resolve"
  | "store"
  | "delete"
  | "mint"
  | "revoke"
  | "inject"
  | "policy"
  | "login"
  | "logout"
  // Client settings saved or removed with `provider add` / `provider rm` (Broker.saveProviderSettings).
  | "provider-add"
  | "provider-rm"
  // Changes the CLI makes outside the store, audited through Broker.auditChange: an MCP
  // client's config (install, uninstall), a background proxy (proxy start/stop), secrets moved
  // between stores (secret migrate), remembered approvals revoked (secret approvals --clear),
  // a remote MCP server's login (connect, proxy login/logout).
  | "install"
  | "uninstall"
  | "proxy-start"
  | "proxy-stop"
  | "migrate"
  | "approvals-clear"
  | "remote-login"
  | "remote-logout";

/** The user's answer to a `confirm` policy prompt ("unsupported": nobody can be asked; "timeout": nobody answered, a no). */
export type ConsentAnswer = "accept" | "decline" | "cancel" | "timeout" | "unsupported";

/** One audit line. Only names and ids: the type has no field that could hold a value. */
export interface AuditEntry {
  event: AuditEvent;
  name?: string;
  purpose?: string;
  client?: string;
  reference?: string;
  tokenId?: string;
  provider?: string;
  /** A change outside the store (Broker.auditChange): what was changed — an MCP client app, a server origin. Never a value. */
  target?: string;
  /** `run`: the environment variable a secret was injected as. */
  env?: string;
  /** `policy`: the new policy. */
  policy?: Policy;
  /** A `confirm` secret: what the user answered. */
  consent?: ConsentAnswer;
  /** A `confirm` secret: who asked (client, terminal, zenity, kdialog, osascript, powershell), or "remembered". */
  approver?: string;
  /** A `confirm` secret approved with `--remember`: for how many more seconds this approval is remembered. */
  rememberFor?: number;
  /** HMAC-SHA256 fingerprint of the value stored or handed out (see fingerprint.ts): tells values apart, reveals nothing. */
  fp?: string;
  /** Chained by another broker process from a stopped process's write-ahead file (see FileAuditLog). */
  recovered?: true;
  /** "intent": written before a change is made (see Broker); "ok"/"error": how an operation ended. */
  outcome: "intent" | "ok" | "error";
  error?: string;
}

export interface AuditLog {
  /**
   * Queues a line and resolves once it is on disk (lines are chained in the order recorded; an
   * urgent one is on disk when it is in the process's write-ahead file, the others when the
   * batch, a few milliseconds later, has chained them). A failed write rejects, and every later
   * `record` then rejects at once.
   */
  record(entry: AuditEntry, opts?: { urgent?: boolean }): Promise<void>;
  /** Throws when an earlier line could not be written: operations refuse to run unaudited. */
  assertWritable(): void;
  /** The error that stopped the log, if one did: an outcome line after a change may be what was lost. */
  readonly failure: BrokerError | null;
  /** Writes every queued line. */
  close(): Promise<void>;
}


/** The `prev` of the very first line of a chain. */
export const GENESIS_PREV = "0".repeat(64);

/** SHA-256 hex of one line's exact bytes, without its newline: what the next line's `prev` holds. */
export function lineHash(line: Uint8Array | string): string {
  return hash("sha256", line, "hex"); // one call: a third of createHash's cost, on every line
}

/**
 * The text of one line (no newline): `seq` counts lines across rotations, `prev` chains them.
 * With the chain key (see AuditKey), the line also names the key (`kid`) and ends with `mac`,
 * an HMAC-SHA256 under that key of the line's bytes up to the mac: as `prev` is the hash of
 * the line before, each mac covers the whole chain behind it, so rewriting or extending the
 * log needs the key (RFC 2104 HMAC; the construction of a keyed hash chain as in Schneier and
 * Kelsey, "Secure Audit Logs to Support Computer Forensics", 1999).
 */
export function formatAuditLine(entry: AuditEntry, time: number, seq: number, prev: string, key?: AuditKey): string {
  if (!key) return JSON.stringify({ time: new Date(time).toISOString(), ...entry, seq, prev });
  return sealAuditLine(JSON.stringify({ time: new Date(time).toISOString(), ...entry, seq, prev, kid: key.id }), key.key);
}

/** The internal store item that holds the audit chain key (32 random bytes, base64url); not the fingerprint key. */
export const AUDIT_CHAIN_KEY = "audit-chain-key";

/** The chain key and its id: the first 16 hex digits of a SHA-256 of it, which say which key a line claims without revealing it. */
export interface AuditKey {
  key: Buffer;
  id: string;
}

/** The AuditKey for raw key bytes. */
export function auditKey(key: Buffer): AuditKey {
  return { key, id: hash("sha256", Buffer.concat([Buffer.from("mcp-credentials-broker audit chain key id\0"), key]), "hex").slice(0, 16) };
}

/** `,"mac":"<64 hex>"}`: how every keyed line ends. */
const MAC_TAIL = /,"mac":"([0-9a-f]{64})"\}$/;

/** Appends the mac to a line's JSON text (which ends in `}`): HMAC-SHA256 of the text without it. */
function sealAuditLine(text: string, key: Buffer): string {
  return `${text.slice(0, -1)},"mac":"${createHmac("sha256", key).update(text).digest("hex")}"}`;
}

/**
 * Whether a keyed line's mac is right under `key`: the text is the line without its
 * `,"mac":"…"` (null when the line has no mac at all).
 */
export function checkAuditMac(line: string, key: Buffer): boolean | null {
  const m = MAC_TAIL.exec(line);
  if (!m) return null;
  const text = `${line.slice(0, m.index)}}`;
  return createHmac("sha256", key).update(text).digest("hex") === m[1];
}

/** The keys of AuditEntry (kept in step by the `satisfies` check below). */
export const AUDIT_FIELDS: ReadonlySet<string> = new Set(
  Object.keys({ event: 0, name: 0, purpose: 0, client: 0, reference: 0, tokenId: 0, provider: 0, target: 0, env: 0, policy: 0, consent: 0, approver: 0, rememberFor: 0, fp: 0, outcome: 0, error: 0 } satisfies Record<Exclude<keyof AuditEntry, "recovered">, 0>),
);

/** Keeps entries in memory: for unit tests. */
export class MemoryAuditLog implements AuditLog {
  readonly entries: AuditEntry[] = [];
  readonly failure = null;
  async record(entry: AuditEntry): Promise<void> {
    this.entries.push(entry);
  }
  assertWritable(): void {}
  async close(): Promise<void> {}
}
