// KeychainItems held in a Map, counting calls: the keychain backend's logic (index, cache,
// split items) without a helper process, and a stand-in keychain for selection tests.
import type { KeychainItem, KeychainItems, KeychainProbe } from "../../src/store/keychain.ts";

export class MemoryKeychainItems implements KeychainItems {
  readonly kind = "linux" as const;
  readonly description = "in-memory test keychain";
  readonly items = new Map<string, string>();
  readonly calls = { read: 0, write: 0, remove: 0 };
  probeResult: KeychainProbe = { state: "ready", detail: "memory" };
  /** When set, writes of items whose service equals it fail (a keychain failing mid-write). */
  failWritesTo: string | null = null;

  constructor(readonly maxItemChars = Number.POSITIVE_INFINITY) {}

  static key(service: string, account: string): string {
    return `${service}\u0000${account}`;
  }

  async read(service: string, account: string): Promise<string | null> {
    this.calls.read++;
    return this.items.get(MemoryKeychainItems.key(service, account)) ?? null;
  }
  async write(service: string, account: string, payload: string): Promise<void> {
    this.calls.write++;
    if (payload.length > this.maxItemChars) throw new Error(`item over ${this.maxItemChars} characters`);
    if (service === this.failWritesTo) throw new Error("simulated keychain failure");
    this.items.set(MemoryKeychainItems.key(service, account), payload);
  }
  async remove(service: string, account: string): Promise<boolean> {
    this.calls.remove++;
    return this.items.delete(MemoryKeychainItems.key(service, account));
  }
  async probe(): Promise<KeychainProbe> {
    return this.probeResult;
  }
}

/** The calls every item operation made so far, summed (each would be a process spawn). */
export function helperRuns(k: MemoryKeychainItems): number {
  return k.calls.read + k.calls.write + k.calls.remove;
}

export type { KeychainItem };
