// HMAC fingerprints of secret values for the audit log: equal values give equal fingerprints,
// and nothing about a value can be learned from one without the key.
import { createHmac, randomBytes } from "node:crypto";
import { loadOrCreateInternalItem, type InternalItemDeps } from "./internal-item.ts";

/** The internal store item holding the key (base64url, 32 random bytes). */
export const FINGERPRINT_KEY = "audit-hmac-key";

/**
 * Computes `fp` for audit lines: HMAC-SHA256 under a random key kept in the store (not in
 * the data dir next to the log), truncated to 128 bits, hex. A plain hash would let anyone
 * holding the log test guesses of a short password offline; with the key in the OS
 * keychain (or in the encrypted file store) the log alone reveals nothing.
 */
export class Fingerprinter {
  #key: Promise<Buffer> | null = null;
  constructor(private readonly deps: InternalItemDeps) {}

  /** The fingerprint of `value`, loading or creating the key on first use. */
  async of(value: string): Promise<string> {
    return createHmac("sha256", await this.#loadKey()).update(value, "utf8").digest("hex").slice(0, 32);
  }

  #loadKey(): Promise<Buffer> {
    this.#key ??= loadOrCreateInternalItem(this.deps, FINGERPRINT_KEY, async () => randomBytes(32).toString("base64url"))
      .then((v) => Buffer.from(v, "base64url"))
      .catch((e: unknown) => {
        this.#key = null;
        throw e;
      });
    return this.#key;
  }
}
