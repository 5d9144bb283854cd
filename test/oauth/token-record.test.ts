// The record a login stores over an existing one keeps what the user set on that name.
import { describe, expect, it } from "bun:test";
import type { ServerMetadata } from "../../src/oauth/discovery.ts";
import type { TokenGrant } from "../../src/oauth/authorization-code.ts";
import type { ResolvedProvider } from "../../src/oauth/providers.ts";
import { recordFromGrant } from "../../src/oauth/token-record.ts";
import type { SecretRecord } from "../../src/core/store.ts";

const grant = { tokens: { access_token: "new-token", token_type: "bearer", expires_in: 3600 }, authMethod: "client_secret_post", requestedScopes: ["repo"] } as unknown as TokenGrant;
const provider = { preset: { id: "github" }, clientId: "cid" } as unknown as ResolvedProvider;
const meta = { as: { issuer: "https://github.com", token_endpoint: "https://github.com/login/oauth/access_token" }, hasIssuer: false } as unknown as ServerMetadata;

describe("recordFromGrant", () => {
  it("signing in again keeps tags, hosts, the policy and its approval settings (an agent's login cannot relax them)", () => {
    const prev: SecretRecord = { value: "old", tags: { a: "1" }, hosts: ["api.github.com"], policy: "confirm", approval: { via: "os", rememberSeconds: 600 }, createdAt: 5, updatedAt: 6 };
    const rec = recordFromGrant(grant, provider, meta, 1_000, prev);
    expect(rec).toMatchObject({ value: "new-token", tags: { a: "1" }, hosts: ["api.github.com"], policy: "confirm", approval: { via: "os", rememberSeconds: 600 }, createdAt: 5, updatedAt: 1_000, provider: "github" });
  });

  it("a first login sets none of them", () => {
    const rec = recordFromGrant(grant, provider, meta, 1_000, null);
    expect(rec.policy).toBeUndefined();
    expect(rec.approval).toBeUndefined();
    expect(rec.hosts).toBeUndefined();
  });
});
