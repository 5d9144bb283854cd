// Revocation on logout (RFC 7009) goes only where the URL policy allows; a stored endpoint it
// refuses is a failed revocation, logged, never a failed logout and never a request.
import { describe, expect, it } from "bun:test";
import { systemClock } from "../../src/core/clock.ts";
import type { OAuthPart, SecretRecord } from "../../src/core/store.ts";
import { createLogger } from "../../src/log.ts";
import { revokeAtProvider } from "../../src/oauth/revoke.ts";
import { MemoryStore } from "../../src/store/memory.ts";

function deps(asked: string[], warnings: string[]) {
  return {
    store: new MemoryStore(),
    withLock: async <T,>(_name: string, fn: () => Promise<T>) => fn(),
    clock: systemClock,
    log: createLogger({ debug: false, write: (line: string) => void warnings.push(line) }),
    env: {},
    platform: "linux",
    fetch: async (input: string | URL | Request) => {
      asked.push(String(input instanceof Request ? input.url : input));
      return new Response(null, { status: 200 });
    },
    clientSecretFor: async () => undefined,
  };
}

function record(part: Partial<OAuthPart>): SecretRecord & { oauth: OAuthPart } {
  const oauth = { provider: "oauth2", clientId: "c", authMethod: "none", tokenEndpoint: "https://as.example/token", tokenType: "bearer", scope: "", generation: 1, ...part } as OAuthPart;
  return { value: "access-token-value", provider: "oauth2", createdAt: 0, updatedAt: 0, oauth };
}

describe("revokeAtProvider", () => {
  it("revokes the refresh and the access token at a safe endpoint", async () => {
    const asked: string[] = [];
    expect(await revokeAtProvider(record({ revocationEndpoint: "https://as.example/revoke", refreshToken: "r" }), deps(asked, []))).toBe("revoked");
    expect(asked).toEqual(["https://as.example/revoke", "https://as.example/revoke"]);
  });

  it("no revocation endpoint: unsupported, nothing asked", async () => {
    const asked: string[] = [];
    expect(await revokeAtProvider(record({}), deps(asked, []))).toBe("unsupported");
    expect(asked).toEqual([]);
  });

  it("a stored endpoint the URL policy refuses: failed and logged, nothing asked, no throw", async () => {
    const asked: string[] = [];
    const warnings: string[] = [];
    expect(await revokeAtProvider(record({ revocationEndpoint: "http://as.example/revoke", refreshToken: "r" }), deps(asked, warnings))).toBe("failed");
    expect(asked).toEqual([]);
    expect(warnings.join("\n")).toMatch(/revocation at the provider failed: Refusing the revocation endpoint/);
  });
});
