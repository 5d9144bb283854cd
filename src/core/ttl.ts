// TTL rules for minted tokens and secret references, as pure functions.
import { BrokerError } from "../errors.ts";

export const MINT_PROVIDERS = ["github", "aws", "gcp", "azure", "oauth2", "okta", "custom"] as const;
export type MintProvider = (typeof MINT_PROVIDERS)[number];

/** Default and maximum lifetime (seconds) of a minted token, per provider (the seed's table). */
export const MINT_TTL: Record<MintProvider, { default: number; max: number }> = {
  github: { default: 3600, max: 8 * 3600 },
  aws: { default: 3600, max: 12 * 3600 },
  gcp: { default: 3600, max: 12 * 3600 },
  azure: { default: 3600, max: 12 * 3600 },
  okta: { default: 3600, max: 12 * 3600 },
  custom: { default: 3600, max: 12 * 3600 },
  oauth2: { default: 3600, max: 24 * 3600 },
};

export const DEFAULT_REFERENCE_TTL = 3600;
export const MAX_REFERENCE_TTL = 24 * 3600;

/** Returns the TTL to use for a minted token, or throws naming the provider's maximum. */
export function mintTtl(provider: MintProvider, requested: number | undefined): number {
  const rule = MINT_TTL[provider];
  if (requested === undefined) return rule.default;
  if (!Number.isInteger(requested) || requested < 1) {
    throw new BrokerError("TTL_OUT_OF_RANGE", `ttl_seconds must be a whole number of seconds between 1 and ${rule.max} for provider '${provider}'.`);
  }
  if (requested > rule.max) {
    throw new BrokerError("TTL_OUT_OF_RANGE", `ttl_seconds ${requested} exceeds the maximum of ${rule.max} seconds for provider '${provider}'. Ask for ${rule.max} or less.`);
  }
  return requested;
}

/** Returns the TTL for a secret reference, or throws naming the bounds. */
export function referenceTtl(requested: number | undefined): number {
  if (requested === undefined) return DEFAULT_REFERENCE_TTL;
  if (!Number.isInteger(requested) || requested < 1 || requested > MAX_REFERENCE_TTL) {
    throw new BrokerError("TTL_OUT_OF_RANGE", `ttl_seconds must be a whole number between 1 and ${MAX_REFERENCE_TTL} (24 h); use a short TTL such as 60 for a reference resolved right away.`);
  }
  return requested;
}
