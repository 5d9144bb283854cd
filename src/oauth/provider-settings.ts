// Client settings saved with `provider add`, kept in the store as internal items
// (`mcb-internal:provider:<id>`), so a client secret lives wherever secrets live.
import { z } from "zod";
import { INTERNAL_PREFIX, type Store } from "../core/store.ts";
import { PROVIDER_IDS, PROVIDERS, type ProviderId, type StoredProviderSettings } from "./providers.ts";

const SettingsSchema = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().optional(),
  issuer: z.string().optional(),
  domain: z.string().optional(),
  tenant: z.string().optional(),
  host: z.string().optional(),
});

/** The store name of a provider's saved settings. */
export function settingsName(id: ProviderId): string {
  return `${INTERNAL_PREFIX}provider:${id}`;
}

/** Saved settings for `id`, or null (also for an unreadable item: env variables may still configure it). */
export async function loadProviderSettings(store: Store, id: ProviderId): Promise<StoredProviderSettings | null> {
  const r = await store.get(settingsName(id));
  if (!r) return null;
  try {
    return SettingsSchema.parse(JSON.parse(r.value));
  } catch {
    return null;
  }
}

/** Saves settings for `id`, replacing earlier ones. */
export async function saveProviderSettings(store: Store, id: ProviderId, s: StoredProviderSettings, now: number): Promise<void> {
  const prev = await store.get(settingsName(id));
  await store.set(settingsName(id), { value: JSON.stringify(SettingsSchema.parse(s)), provider: id, createdAt: prev?.createdAt ?? now, updatedAt: now });
}

/** Removes saved settings; false when there were none. */
export async function removeProviderSettings(store: Store, id: ProviderId): Promise<boolean> {
  return store.delete(settingsName(id));
}

/** Ids of providers with saved settings. */
export async function listProviderSettings(store: Store): Promise<ProviderId[]> {
  const prefix = `${INTERNAL_PREFIX}provider:`;
  return (await store.list()).filter((e) => e.name.startsWith(prefix)).map((e) => e.name.slice(prefix.length) as ProviderId);
}

/** Providers with a client id, and whether it comes from the environment or `provider add`. */
export async function configuredProviders(store: Store, env: Record<string, string | undefined>): Promise<{ provider: ProviderId; source: "environment" | "provider add" }[]> {
  const out: { provider: ProviderId; source: "environment" | "provider add" }[] = [];
  for (const id of PROVIDER_IDS) {
    if (PROVIDERS[id].clientIdVars.some((v) => env[v]?.trim())) out.push({ provider: id, source: "environment" });
    else if (await loadProviderSettings(store, id)) out.push({ provider: id, source: "provider add" });
  }
  return out;
}
