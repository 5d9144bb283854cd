// The refresh skew: 60 s before expiry, but never more than a quarter of a token's lifetime,
// so a short-lived token is not refreshed on every call.
import { describe, expect, it } from "bun:test";
import { isUnusable, MAX_SKEW_FRACTION, needsRefresh, REFRESH_SKEW_MS, refreshSkewMs } from "../../src/core/expiry.ts";
import type { SecretRecord } from "../../src/core/store.ts";

const T0 = 1_800_000_000_000;
/** An OAuth token stored at T0 that lives `lifetimeMs`. */
function token(lifetimeMs: number): SecretRecord {
  return { value: "at", createdAt: T0, updatedAt: T0, expiresAt: T0 + lifetimeMs, oauth: { provider: "oauth2", clientId: "c", authMethod: "none", tokenEndpoint: "https://as.example/token", tokenType: "Bearer", generation: 1 } };
}

describe("refresh skew", () => {
  it("is 60 s for a token that lives long enough", () => {
    const t = token(3_600_000);
    expect(refreshSkewMs(t)).toBe(REFRESH_SKEW_MS);
    expect(needsRefresh(t, T0 + 3_600_000 - 60_001)).toBe(false);
    expect(needsRefresh(t, T0 + 3_600_000 - 60_000)).toBe(true);
  });

  it.each([30_000, 10_000, 59_000, 120_000, 1_000])("is a quarter of the lifetime of a %d ms token: not due right after it is issued", (lifetime) => {
    const t = token(lifetime);
    expect(refreshSkewMs(t)).toBe(lifetime * MAX_SKEW_FRACTION);
    expect(needsRefresh(t, T0)).toBe(false);
    expect(needsRefresh(t, T0 + lifetime * 0.75 - 1)).toBe(false);
    expect(needsRefresh(t, T0 + lifetime * 0.75)).toBe(true);
    expect(isUnusable(t, T0 + lifetime - 1)).toBe(false);
  });

  it("never reaches past expiry: an expired token always needs a refresh", () => {
    for (const lifetime of [1, 30_000, 3_600_000]) expect(needsRefresh(token(lifetime), T0 + lifetime)).toBe(true);
    // A record changed after it was stored (updatedAt moved on, even past expiry) still refreshes by then.
    const odd = { ...token(30_000), updatedAt: T0 + 40_000 };
    expect(refreshSkewMs(odd)).toBe(REFRESH_SKEW_MS);
    expect(needsRefresh(odd, T0 + 30_000)).toBe(true);
  });

  it("applies to OAuth tokens with an expiry only", () => {
    const { oauth: _o, ...plain } = token(30_000);
    expect(needsRefresh(plain, T0 + 60_000)).toBe(false);
    const { expiresAt: _e, ...forever } = token(30_000);
    expect(needsRefresh(forever, T0 + 1e12)).toBe(false);
  });
});
