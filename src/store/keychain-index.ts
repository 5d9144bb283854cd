// The keychain backend's index in the data dir: names and metadata of the secrets kept in
// the OS keychain (never a value), so listing needs no keychain access. Every write replaces
// the file atomically, which also tells other broker processes to drop their cached reads.
import { lstatSync } from "node:fs";
import { readDataFile } from "../files/data-files.ts";
import { z } from "zod";
import { writeFileAtomic } from "../files/atomic-write.ts";
import { BrokerError } from "../errors.ts";
import { SecretRecordSchema } from "../core/store.ts";

const PartsSchema = z.object({ id: z.string().regex(/^[0-9a-f]{12}$/), count: z.number().int().min(2) });

/**
 * One secret's listing metadata, plus where its value's extra parts live when it spans
 * several items. Neither the value nor the OAuth part (it holds the refresh token) fits here.
 */
export const IndexEntrySchema = SecretRecordSchema.omit({ value: true, oauth: true }).extend({ parts: PartsSchema.optional() });
export type IndexEntry = z.infer<typeof IndexEntrySchema>;

const IndexFileSchema = z.object({
  version: z.literal(1),
  /** The keychain service the items live under: another service's index must not be used. */
  service: z.string(),
  /** Incremented by every write; the file's identity changes with it. */
  generation: z.number().int().nonnegative(),
  entries: z.record(z.string(), IndexEntrySchema),
});
export type KeychainIndex = z.infer<typeof IndexFileSchema>;

/** Reads and writes the index file. Writers must hold the keychain lock. */
export class KeychainIndexFile {
  constructor(
    readonly path: string,
    readonly service: string,
  ) {}

  /**
   * Identity of the index now, "" when it does not exist: every write replaces the file by
   * rename (a new inode) and changes its mtime, so any write by any process changes it.
   * Number stats: a hot read pays for this stat and bigint ones cost 2.5× as much.
   */
  stamp(): string {
    try {
      const st = lstatSync(this.path);
      return `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
      throw this.#ioError("read", e);
    }
  }

  /** The index (an empty one when the file does not exist yet). */
  load(): KeychainIndex {
    let raw: string;
    try {
      raw = readDataFile(this.path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, service: this.service, generation: 0, entries: {} };
      throw this.#ioError("read", e);
    }
    let parsed: KeychainIndex;
    try {
      parsed = IndexFileSchema.parse(JSON.parse(raw));
    } catch {
      throw new BrokerError("STORE_CORRUPT", `${this.path} is not a valid keychain index. Move it aside and re-store your secrets' metadata (their values stay in the keychain).`);
    }
    if (parsed.service !== this.service) {
      throw new BrokerError(
        "INVALID_INPUT",
        `${this.path} indexes keychain service '${parsed.service}', not '${this.service}'. Set MCB_KEYCHAIN_SERVICE=${parsed.service}, or use another data dir (MCB_HOME) for this service.`,
      );
    }
    return parsed;
  }

  /** Writes `index` with its generation incremented; returns the new stamp. */
  save(index: KeychainIndex): string {
    const next = { ...index, generation: index.generation + 1 };
    try {
      writeFileAtomic(this.path, JSON.stringify(next), 0o600);
    } catch (e) {
      throw this.#ioError("write", e);
    }
    return this.stamp();
  }

  #ioError(op: "read" | "write", e: unknown): BrokerError {
    return new BrokerError("IO_ERROR", `Cannot ${op} ${this.path}: ${(e as NodeJS.ErrnoException).code ?? "error"}. Check that the data directory is writable by you (MCB_HOME).`, { cause: e });
  }
}
