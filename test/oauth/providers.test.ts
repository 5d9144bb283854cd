// One test per provider preset: endpoints, quirks, the variables it reads, and the
// "not configured" guidance naming them (acceptance 7).
import { describe, expect, it } from "bun:test";
import { isBrokerError } from "../../src/errors.ts";
import { notConfigured, PROVIDER_IDS, PROVIDERS, presetFor, resolveProvider } from "../../src/oauth/providers.ts";

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}

describe("provider presets", () => {
  it("github: explicit endpoints, no OIDC, form-encoded answers and errors with HTTP 200", () => {
    const p = resolveProvider("github", { GITHUB_CLIENT_ID: "gh-id", GITHUB_CLIENT_SECRET: "gh-secret" }, null);
    expect(p.clientId).toBe("gh-id");
    expect(p.clientSecret).toBe("gh-secret");
    expect(p.server).toEqual({
      discover: false,
      authorization: "https://github.com/login/oauth/authorize",
      token: "https://github.com/login/oauth/access_token",
      deviceAuthorization: "https://github.com/login/device/code",
    });
    expect(p.server.issuer).toBeUndefined();
    expect(p.preset.quirks).toEqual({ formEncodedResponses: true, errorsWithHttp200: true, dropIdToken: false });
    expect(p.preset.offlineScope).toBeNull();
  });

  it("github: GITHUB_HOST points at an Enterprise Server (or the test fixture)", () => {
    expect(resolveProvider("github", { GITHUB_CLIENT_ID: "x", GITHUB_HOST: "ghe.example.com" }, null).server.token).toBe("https://ghe.example.com/login/oauth/access_token");
    expect(resolveProvider("github", { GITHUB_CLIENT_ID: "x", GITHUB_HOST: "http://127.0.0.1:4000" }, null).server.authorization).toBe("http://127.0.0.1:4000/login/oauth/authorize");
    expect(isBrokerError(errorOf(() => resolveProvider("github", { GITHUB_CLIENT_ID: "x", GITHUB_HOST: "http://evil.example" }, null)), "UNSAFE_URL")).toBe(true);
  });

  it("google: GCP_* (the original's README) and GOOGLE_* both work; offline access via access_type + prompt", () => {
    expect(resolveProvider("google", { GCP_CLIENT_ID: "gcp" }, null).clientId).toBe("gcp");
    const p = resolveProvider("google", { GOOGLE_CLIENT_ID: "g", GOOGLE_CLIENT_SECRET: "s" }, null);
    expect(p.clientId).toBe("g");
    expect(p.clientSecret).toBe("s");
    expect(p.preset.authorizationParams).toEqual({ access_type: "offline", prompt: "consent" });
    expect(p.server.issuer).toBe("https://accounts.google.com");
    expect(p.server.authorization).toBe("https://accounts.google.com/o/oauth2/v2/auth");
    expect(p.server.revocation).toBe("https://oauth2.googleapis.com/revoke");
    expect(p.server.deviceAuthorization).toBe("https://oauth2.googleapis.com/device/code");
  });

  it("azure: tenant from AZURE_TENANT_ID (default common), offline_access, no issuer for multi-tenant", () => {
    const common = resolveProvider("azure", { AZURE_CLIENT_ID: "a" }, null);
    expect(common.server.authorization).toBe("https://login.microsoftonline.com/common/oauth2/v2.0/authorize");
    expect(common.server.issuer).toBeUndefined();
    expect(common.preset.offlineScope).toBe("offline_access");
    const t = resolveProvider("azure", { AZURE_CLIENT_ID: "a", AZURE_TENANT_ID: "contoso.onmicrosoft.com" }, null);
    expect(t.server.token).toBe("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
    expect(t.server.deviceAuthorization).toBe("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode");
    expect(t.server.issuer).toBe("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0");
    expect(() => resolveProvider("azure", { AZURE_CLIENT_ID: "a", AZURE_TENANT_ID: "../x" }, null)).toThrow(/AZURE_TENANT_ID/);
  });

  it("okta: the /authorize endpoint of OKTA_DOMAIN (the original used the token URL), exact port", () => {
    const p = resolveProvider("okta", { OKTA_CLIENT_ID: "o", OKTA_DOMAIN: "dev-1.okta.com" }, null);
    expect(p.server.authorization).toBe("https://dev-1.okta.com/oauth2/v1/authorize");
    expect(p.server.token).toBe("https://dev-1.okta.com/oauth2/v1/token");
    expect(p.server.revocation).toBe("https://dev-1.okta.com/oauth2/v1/revoke");
    expect(p.server.issuer).toBe("https://dev-1.okta.com");
    expect(p.preset.loopbackAnyPort).toBe(false);
    expect(p.preset.offlineScope).toBe("offline_access");
    expect(errorOf(() => resolveProvider("okta", { OKTA_CLIENT_ID: "o" }, null)).message).toContain("OKTA_DOMAIN");
  });

  it("oauth2: discovery from OAUTH2_ISSUER, or explicit endpoints", () => {
    const d = resolveProvider("oauth2", { OAUTH2_CLIENT_ID: "c", OAUTH2_ISSUER: "https://idp.example" }, null);
    expect(d.server).toEqual({ issuer: "https://idp.example", discover: true });
    expect(d.preset.redirectHost).toBe("127.0.0.1");
    const e = resolveProvider("oauth2", { OAUTH2_CLIENT_ID: "c" }, null, { authorizationEndpoint: "https://as.example/auth", tokenEndpoint: "https://as.example/token" });
    expect(e.server).toMatchObject({ discover: false, authorization: "https://as.example/auth", token: "https://as.example/token" });
    expect(() => resolveProvider("oauth2", { OAUTH2_CLIENT_ID: "c" }, null, { authorizationEndpoint: "https://as.example/auth" })).toThrow(/both/);
  });

  it("refuses unsafe endpoints before anything is opened", () => {
    for (const bad of ["file:///etc/passwd", "javascript:alert(1)", "http://evil.example/auth", "https://x.example/$(id) y"]) {
      const e = errorOf(() => resolveProvider("oauth2", { OAUTH2_CLIENT_ID: "c" }, null, { authorizationEndpoint: bad, tokenEndpoint: "https://as.example/token" }));
      expect(isBrokerError(e, "UNSAFE_URL")).toBe(true);
    }
  });

  it("a configured issuer wins over endpoints an agent passes: the browser never goes to the agent's URL", () => {
    const env = { OAUTH2_CLIENT_ID: "c", OAUTH2_CLIENT_SECRET: "s", OAUTH2_ISSUER: "https://idp.example" };
    for (const agent of [
      { authorizationEndpoint: "https://evil.example/a", tokenEndpoint: "https://evil.example/t" },
      { authorizationEndpoint: "https://idp.example/other-realm/a", tokenEndpoint: "https://idp.example/other-realm/t" },
    ]) {
      const p = resolveProvider("oauth2", env, null, { ...agent, fromAgent: true });
      expect(p.server).toEqual({ issuer: "https://idp.example", discover: true });
      expect(p.clientSecret).toBe("s");
    }
    // Settings saved with `provider add` count as configured too.
    const stored = resolveProvider("oauth2", {}, { clientId: "c", issuer: "https://stored-idp.example" }, { authorizationEndpoint: "https://evil.example/a", tokenEndpoint: "https://evil.example/t", fromAgent: true });
    expect(stored.server).toEqual({ issuer: "https://stored-idp.example", discover: true });
    // The user's own explicit endpoints (login --authorization-endpoint) are the user's choice.
    const byUser = resolveProvider("oauth2", env, null, { authorizationEndpoint: "https://as.example/a", tokenEndpoint: "https://as.example/t" });
    expect(byUser.server).toMatchObject({ discover: false, authorization: "https://as.example/a" });
    expect(byUser.clientSecret).toBe("s");
  });

  it("an agent's endpoints are used only when no issuer is configured: https or loopback http, and without the client secret", () => {
    const env = { OAUTH2_CLIENT_ID: "c", OAUTH2_CLIENT_SECRET: "s" };
    const p = resolveProvider("oauth2", env, null, { authorizationEndpoint: "https://as.example/a", tokenEndpoint: "https://as.example/t", fromAgent: true });
    expect(p.server).toMatchObject({ discover: false, authorization: "https://as.example/a", token: "https://as.example/t" });
    expect(p.clientSecret).toBeUndefined();
    expect(resolveProvider("oauth2", env, null, { authorizationEndpoint: "http://127.0.0.1:8080/a", tokenEndpoint: "http://127.0.0.1:8080/t", fromAgent: true }).server.authorization).toBe("http://127.0.0.1:8080/a");
    for (const bad of ["http://as.example/a", "file:///etc/passwd", "javascript:alert(1)"]) {
      const e = errorOf(() => resolveProvider("oauth2", env, null, { authorizationEndpoint: bad, tokenEndpoint: "https://as.example/t", fromAgent: true }));
      expect(isBrokerError(e, "UNSAFE_URL")).toBe(true);
    }
  });

  it("env wins over `provider add` settings; settings are used when env is empty", () => {
    const stored = { clientId: "stored-id", clientSecret: "stored-secret", domain: "stored.okta.com" };
    expect(resolveProvider("okta", {}, stored)).toMatchObject({ clientId: "stored-id", clientSecret: "stored-secret" });
    expect(resolveProvider("okta", {}, stored).server.issuer).toBe("https://stored.okta.com");
    const mixed = resolveProvider("okta", { OKTA_CLIENT_ID: "env-id" }, stored);
    // The stored secret belongs to the stored client id: never paired with another one.
    expect(mixed).toMatchObject({ clientId: "env-id" });
    expect(mixed.clientSecret).toBeUndefined();
  });
});

describe("not configured (acceptance 7)", () => {
  const want: Record<string, string[]> = {
    github: ["GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"],
    google: ["GCP_CLIENT_ID", "GOOGLE_CLIENT_ID", "GCP_CLIENT_SECRET", "GOOGLE_CLIENT_SECRET"],
    azure: ["AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"],
    okta: ["OKTA_CLIENT_ID", "OKTA_CLIENT_SECRET", "OKTA_DOMAIN"],
    oauth2: ["OAUTH2_CLIENT_ID", "OAUTH2_CLIENT_SECRET", "OAUTH2_ISSUER"],
  };
  for (const id of PROVIDER_IDS) {
    it(`${id} names its variables and provider add`, () => {
      const e = errorOf(() => resolveProvider(id, {}, null));
      expect(isBrokerError(e, "PROVIDER_NOT_CONFIGURED")).toBe(true);
      expect(e.message).toStartWith(`Provider '${id}' is not configured. Set `);
      for (const v of want[id]!) expect(e.message).toContain(v);
      expect(e.message).toContain(`mcp-credentials-broker provider add ${id}`);
      expect(notConfigured(PROVIDERS[id]).message).toBe(e.message);
    });
  }
  it("unknown providers list the known ones", () => {
    const e = errorOf(() => presetFor("gitlab"));
    expect(isBrokerError(e, "UNKNOWN_PROVIDER")).toBe(true);
    expect(e.message).toContain("github, google, azure, okta, oauth2");
  });
});
