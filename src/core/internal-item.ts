// Broker-owned items kept in the user's store (signing key, audit HMAC key): read, or created once.
import { INTERNAL_PREFIX, type Store } from "./store.ts";
import type { Clock } from "./clock.ts";
import type { WithLock } from "./lock.ts";

export interface InternalItemDeps {
  store: Store;
  clock: Clock;
  /** Serialises "create if missing" across broker processes. */
  withLock: WithLock;
}

/**
 * Returns the value of the internal item `mcb-internal:<key>`. Reading it takes no lock (a
 * read-only data dir, where no lock file can be made, still serves it); only creating it
 * does: under the lock `<key>` the item is looked up again and, still missing, created with
 * `create`, so concurrent processes agree on one value.
 */
export async function loadOrCreateInternalItem(deps: InternalItemDeps, key: string, create: () => Promise<string>): Promise<string> {
  const name = `${INTERNAL_PREFIX}${key}`;
  const found = await deps.store.get(name);
  if (found) return found.value;
  return deps.withLock(key, async () => {
    const stored = await deps.store.get(name);
    if (stored) return stored.value;
    const value = await create();
    const now = deps.clock.now();
    await deps.store.set(name, { value, createdAt: now, updatedAt: now });
    return value;
  });
}
