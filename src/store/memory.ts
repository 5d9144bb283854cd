// In-process store: `--store memory` and unit tests. Nothing survives the process.
import { toEntry, type SecretEntry, type SecretRecord, type Store } from "../core/store.ts";

/** A Store held in a Map; records are copied in and out so callers cannot alias them. */
export class MemoryStore implements Store {
  readonly backend = "memory" as const;
  readonly description = "memory (secrets are lost when the process exits)";
  readonly #records = new Map<string, SecretRecord>();

  async get(name: string): Promise<SecretRecord | null> {
    const r = this.#records.get(name);
    return r ? structuredClone(r) : null;
  }
  async set(name: string, record: SecretRecord): Promise<void> {
    this.#records.set(name, structuredClone(record));
  }
  async delete(name: string): Promise<boolean> {
    return this.#records.delete(name);
  }
  async list(): Promise<SecretEntry[]> {
    return [...this.#records].map(([name, r]) => toEntry(name, r));
  }
  async close(): Promise<void> {}
}
