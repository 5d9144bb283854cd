// How a record becomes keychain item payloads: ASCII only (base64 behind a version prefix), so
// multi-line and non-ASCII values survive every helper's I/O (`security -w` prints non-ASCII as
// hex), split over several items when one item cannot hold it (Windows Credential Manager's
// 2,560-byte blob limit, the 4,096-byte line limit of `security -i`).
import { createHash } from "node:crypto";
import { BrokerError } from "../errors.ts";
import { SecretRecordSchema, type SecretRecord } from "../core/store.ts";

const SINGLE = "mcb1:";
const MANIFEST = "mcb1p:";

/** Most items one value may span: far above the largest value the broker accepts. */
export const MAX_PARTS = 512;

/** The whole record (value and metadata) as one ASCII payload. */
export function encodeRecord(record: SecretRecord): string {
  return SINGLE + Buffer.from(JSON.stringify(record), "utf8").toString("base64");
}

/** Parses a payload written by encodeRecord; anything else is STORE_CORRUPT naming the secret. */
export function decodeRecord(payload: string, name: string): SecretRecord {
  if (payload.startsWith(SINGLE)) {
    try {
      return SecretRecordSchema.parse(JSON.parse(Buffer.from(payload.slice(SINGLE.length), "base64").toString("utf8")));
    } catch {
      /* reported below */
    }
  }
  throw corrupt(name);
}

export interface Manifest {
  id: string;
  count: number;
  digest: string;
}

/** The head item and extra part items for a payload; `newId` names the parts of this write. */
export function splitPayload(payload: string, maxItemChars: number, newId: () => string): { head: string; parts: string[]; id?: string } {
  if (payload.length <= maxItemChars) return { head: payload, parts: [] };
  const parts: string[] = [];
  for (let i = 0; i < payload.length; i += maxItemChars) parts.push(payload.slice(i, i + maxItemChars));
  if (parts.length > MAX_PARTS) {
    throw new BrokerError("INVALID_INPUT", `This value is too large for the OS keychain (it would take ${parts.length} items; the most is ${MAX_PARTS}). Store a smaller value.`);
  }
  const id = newId();
  return { head: `${MANIFEST}${id}:${parts.length}:${digestOf(payload)}`, parts, id };
}

/** The manifest in a head item, or null when the head holds the whole payload. */
export function parseManifest(head: string, name: string): Manifest | null {
  if (!head.startsWith(MANIFEST)) return null;
  const m = /^([0-9a-f]{12}):(\d+):([A-Za-z0-9_-]{43})$/.exec(head.slice(MANIFEST.length));
  const count = Number(m?.[2]);
  if (!m || count < 2 || count > MAX_PARTS) throw corrupt(name);
  return { id: m[1]!, count, digest: m[3]! };
}

/** Joins part payloads, checking them against the manifest's digest. */
export function joinParts(manifest: Manifest, parts: (string | null)[], name: string): string {
  if (parts.some((p) => p === null)) throw corrupt(name);
  const payload = parts.join("");
  if (digestOf(payload) !== manifest.digest) throw corrupt(name);
  return payload;
}

/** The keychain service under which part `index` of a split value is kept (the account stays the secret's name). */
export function partService(service: string, id: string, index: number): string {
  return `${service}/part/${id}/${index}`;
}

function digestOf(payload: string): string {
  return createHash("sha256").update(payload).digest("base64url");
}

function corrupt(name: string): BrokerError {
  return new BrokerError("STORE_CORRUPT", `The keychain item for '${name}' is damaged or was not written by this broker. Delete it (mcp-credentials-broker secret rm) and store the secret again.`);
}
