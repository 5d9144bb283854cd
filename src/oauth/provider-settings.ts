// Which providers are configured, and from where: a client id in the environment (the
// original broker's variables, which win) or a client saved with `provider add` (an internal
// store item: src/core/provider-settings.ts owns the record, the Broker writes it, audited).
import { PROVIDER_IDS, PROVIDERS, type ProviderId } from "./providers.ts";

/** Providers with a client id, and whether it comes from the environment or `provider add` (`saved`: Broker.status().savedProviders). */
export function configuredProviders(saved: readonly string[], env: Record<string, string | undefined>): { provider: ProviderId; source: "environment" | "provider add" }[] {
  const out: { provider: ProviderId; source: "environment" | "provider add" }[] = [];
  for (const id of PROVIDER_IDS) {
    if (PROVIDERS[id].clientIdVars.some((v) => env[v]?.trim())) out.push({ provider: id, source: "environment" });
    else if (saved.includes(id)) out.push({ provider: id, source: "provider add" });
  }
  return out;
}
