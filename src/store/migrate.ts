// Moves every record (user secrets and the broker's own items, such as the token signing key)
// from one store to another without losing any: copy, verify through a fresh view of the
// target, and only then delete from the source.
import { isDeepStrictEqual } from "node:util";
import { BrokerError } from "../errors.ts";
import { isInternalName, type SecretRecord, type Store } from "../core/store.ts";

export interface MigrateOptions {
  /** Leave the records in the source too (copy instead of move). */
  keep?: boolean;
  /** Replace target records that differ; without it such a conflict stops the migration before any write. */
  overwrite?: boolean;
}

export interface MigrateReport {
  /** User secrets copied (names only). */
  secrets: string[];
  /** The broker's own items copied (its ES256 signing key, its audit fingerprint and chain keys). */
  internal: number;
  /** Names already in the target with the same record. */
  unchanged: string[];
  /** Whether the source copies were deleted. */
  removedFromSource: boolean;
}

/**
 * Copies every record of `from` into `to`, checks each one through `reopenTarget()` (a
 * fresh instance, so no cache vouches for itself), then deletes the source records unless
 * `keep`. Throws before writing anything when a name exists in both with different records.
 */
export async function migrateStore(from: Store, to: Store, reopenTarget: () => Promise<Store>, opts: MigrateOptions = {}): Promise<MigrateReport> {
  const records = new Map<string, SecretRecord>();
  for (const e of await from.list()) {
    const r = await from.get(e.name);
    if (r) records.set(e.name, r);
  }
  const unchanged: string[] = [];
  const conflicts: string[] = [];
  for (const [name, r] of records) {
    const existing = await to.get(name);
    if (existing === null) continue;
    if (isDeepStrictEqual(existing, r)) unchanged.push(name);
    else conflicts.push(name);
  }
  if (conflicts.length > 0 && !opts.overwrite) {
    const shown = conflicts.map((n) => `'${n}'`);
    throw new BrokerError("INVALID_INPUT", `The target store already holds different records for: ${shown.join(", ")}. Nothing was migrated. Re-run with --overwrite to replace them, or delete them from the target first.`);
  }
  for (const [name, r] of records) if (!unchanged.includes(name)) await to.set(name, r);

  const check = await reopenTarget();
  try {
    for (const [name, r] of records) {
      if (!isDeepStrictEqual(await check.get(name), r)) {
        throw new BrokerError("STORE_CORRUPT", `'${name}' did not read back from the target store as written. Nothing was deleted from the source; run \`mcp-credentials-broker doctor\`.`);
      }
    }
  } finally {
    await check.close();
  }
  if (!opts.keep) {
    for (const name of records.keys()) await from.delete(name);
    // The file store is a log: without this, the moved values would stay in its history.
    await from.compact?.();
  }
  const names = [...records.keys()];
  return {
    secrets: names.filter((n) => !isInternalName(n)).sort(),
    internal: names.filter(isInternalName).length,
    unchanged: unchanged.filter((n) => !isInternalName(n)).sort(),
    removedFromSource: !opts.keep,
  };
}
