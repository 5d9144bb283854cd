// The record of an OAuth client saved with `provider add`: kept in the store as an internal
// item (`mcb-internal:provider:<id>`), so a client secret lives wherever secrets live. The
// core owns the record's shape; writes go through the Broker (audited), reads are here for
// the OAuth side (src/oauth/oauth-port.ts, login.ts), which gets the store from the
// composition root.
import { z } from "zod";
import { INTERNAL_PREFIX, type Store } from "./store.ts";

export const ProviderSettingsSchema = z.object({
  clientId: z.string().min(1).max(1024),
  clientSecret: z.string().max(8192).optional(),
  /** oauth2: issuer; okta: domain; azure: tenant; github: host (GitHub Enterprise Server). */
  issuer: z.string().max(2048).optional(),
  domain: z.string().max(253).optional(),
  tenant: z.string().max(256).optional(),
  host: z.string().max(253).optional(),
});
export type ProviderSettings = z.infer<typeof ProviderSettingsSchema>;

/** A saved client as listings show it: never its secret, only whether there is one. */
export type SavedProvider = Omit<ProviderSettings, "clientSecret"> & { provider: string; hasSecret: boolean };

const PREFIX = `${INTERNAL_PREFIX}provider:`;

/** The store name of a provider's saved settings. */
export function providerSettingsName(provider: string): string {
  return `${PREFIX}${provider}`;
}

/** Saved settings for `provider`, or null (also for an unreadable item: environment variables may still configure it). */
export async function loadProviderSettings(store: Store, provider: string): Promise<ProviderSettings | null> {
  const r = await store.get(providerSettingsName(provider));
  if (!r) return null;
  try {
    return ProviderSettingsSchema.parse(JSON.parse(r.value));
  } catch {
    return null;
  }
}

/** Ids of the providers with saved settings, sorted. */
export async function savedProviderIds(store: Store): Promise<string[]> {
  return (await store.list())
    .filter((e) => e.name.startsWith(PREFIX))
    .map((e) => e.name.slice(PREFIX.length))
    .sort();
}
