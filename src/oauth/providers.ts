// Provider presets: one object per provider holding all its endpoints and quirks, and the
// resolution of a preset plus the environment (or `provider add` settings) into a client.
import { BrokerError } from "../errors.ts";
import { parseSafeUrl } from "./url-policy.ts";
import { PROVIDER_IDS, type LoginOverrides, type ProviderId } from "../core/oauth.ts";
import type { ProviderSettings } from "../core/provider-settings.ts";

export { PROVIDER_IDS, type ProviderId };

type Env = Record<string, string | undefined>;

/** Where an authorization server lives: explicit endpoints, or an issuer to discover them from. */
export interface ServerEndpoints {
  /** The issuer identifier: checked against `iss` (RFC 9207) and ID tokens; the discovery base when `discover`. */
  issuer?: string;
  /** Fetch RFC 8414 / OIDC metadata from `issuer` instead of using the endpoints below. */
  discover: boolean;
  authorization?: string;
  token?: string;
  deviceAuthorization?: string;
  revocation?: string;
  userinfo?: string;
}

/** Settings a user saved with `provider add` (kept in the store, never in a file of its own; the core owns the record). */
export type StoredProviderSettings = ProviderSettings;

/** Overrides a caller may give: `login --issuer`, or start_oauth_flow's endpoints (the core's LoginOverrides). */
export type EndpointOverrides = LoginOverrides;

/** What a provider's token and device endpoints get wrong, normalised in src/oauth/http.ts. */
export interface ResponseQuirks {
  /** Answers `application/x-www-form-urlencoded` (GitHub does unless asked for JSON). */
  formEncodedResponses: boolean;
  /** Reports OAuth errors (`error=…`) with HTTP 200 (GitHub). */
  errorsWithHttp200: boolean;
  /** Drops the ID token from token responses: Entra's multi-tenant endpoints issue ID tokens
   * whose `iss` names the user's tenant, not the `common` issuer we asked. */
  dropIdToken: boolean;
}

/**
 * What a login flow needs to know about whom it signs in to: the name recorded as the token's
 * provider, how to ask (scopes, parameters), the redirect, the response quirks. A preset is
 * one; a remote MCP server's login builds its own (src/remote/session.ts).
 */
export interface LoginProfile {
  /** Recorded as the token's provider; refresh and logout look its quirks up by it (quirksOf). */
  id: string;
  title: string;
  /** Scopes requested when the caller names none. */
  defaultScopes: readonly string[];
  /** Scope that asks for a refresh token (OIDC `offline_access`), appended when missing. */
  offlineScope: string | null;
  /** Extra authorization request parameters (Google: access_type=offline, prompt=consent). */
  authorizationParams: Readonly<Record<string, string>>;
  /** RFC 8252 §7.3: the server accepts any port on a loopback redirect URI, so we may
   * fall back to an ephemeral port when 9876 is busy. */
  loopbackAnyPort: boolean;
  /** Host in the redirect URI. The named presets keep the original broker's
   * `http://localhost:9876/oauth/callback` so existing app registrations keep working. */
  redirectHost: "localhost" | "127.0.0.1";
  quirks: ResponseQuirks;
}

/** A named provider: its login profile, where its client comes from, and its endpoints. */
export interface ProviderPreset extends LoginProfile {
  id: ProviderId;
  /** Environment variables holding the client id / secret, first set one wins. */
  clientIdVars: readonly string[];
  clientSecretVars: readonly string[];
  /** Further variables, listed in the "not configured" message when they are required. */
  requiredVars: readonly string[];
  /** Where to register an OAuth app, for the "not configured" message. */
  registerAt: string;
  /** Endpoints from the environment / stored settings / overrides; throws when required ones are missing. */
  endpoints(settings: PresetSettings): ServerEndpoints;
}

/** The non-secret settings a preset needs, already picked from env or `provider add`. */
export interface PresetSettings {
  issuer?: string;
  domain?: string;
  tenant?: string;
  host?: string;
  overrides: EndpointOverrides;
}

/** A server that answers as RFC 6749 says: nothing to normalise (every non-preset server: remote MCP servers, registration, discovery). */
export const NO_QUIRKS: ResponseQuirks = Object.freeze({ formEncodedResponses: false, errorsWithHttp200: false, dropIdToken: false });

/** `https://host` for a bare host name, the URL itself (checked) for a full URL. */
function baseUrl(hostOrUrl: string, what: string): string {
  const raw = /^[a-z][a-z0-9+.-]*:\/\//i.test(hostOrUrl) ? hostOrUrl : `https://${hostOrUrl}`;
  return parseSafeUrl(raw, what).origin;
}

const github: ProviderPreset = {
  id: "github",
  title: "GitHub",
  clientIdVars: ["GITHUB_CLIENT_ID"],
  clientSecretVars: ["GITHUB_CLIENT_SECRET"],
  requiredVars: [],
  registerAt: "https://github.com/settings/developers (OAuth App; enable Device Flow for headless use)",
  defaultScopes: ["read:user"],
  // GitHub has no OIDC and no offline_access: OAuth App tokens do not expire, and GitHub
  // App user tokens come with a refresh token unasked.
  offlineScope: null,
  authorizationParams: {},
  // docs.github.com "Loopback redirect URLs": any port on a loopback redirect URI is accepted.
  loopbackAnyPort: true,
  redirectHost: "localhost",
  quirks: { formEncodedResponses: true, errorsWithHttp200: true, dropIdToken: false },
  endpoints({ host }) {
    // GITHUB_HOST names a GitHub Enterprise Server; its OAuth endpoints have the same paths.
    const base = host ? baseUrl(host, "GitHub host (GITHUB_HOST)") : "https://github.com";
    return {
      discover: false,
      authorization: `${base}/login/oauth/authorize`,
      token: `${base}/login/oauth/access_token`,
      deviceAuthorization: `${base}/login/device/code`,
    };
  },
};

const google: ProviderPreset = {
  id: "google",
  title: "Google",
  clientIdVars: ["GCP_CLIENT_ID", "GOOGLE_CLIENT_ID"],
  clientSecretVars: ["GCP_CLIENT_SECRET", "GOOGLE_CLIENT_SECRET"],
  requiredVars: [],
  registerAt: "https://console.cloud.google.com/apis/credentials (OAuth client ID, type Desktop app; TVs and Limited Input devices for --device)",
  defaultScopes: ["openid", "email"],
  // Google ignores offline_access; a refresh token needs access_type=offline, and is only
  // re-issued on consent, hence prompt=consent.
  offlineScope: null,
  authorizationParams: { access_type: "offline", prompt: "consent" },
  loopbackAnyPort: true,
  redirectHost: "localhost",
  quirks: NO_QUIRKS,
  endpoints() {
    return {
      issuer: "https://accounts.google.com",
      discover: false,
      authorization: "https://accounts.google.com/o/oauth2/v2/auth",
      token: "https://oauth2.googleapis.com/token",
      deviceAuthorization: "https://oauth2.googleapis.com/device/code",
      revocation: "https://oauth2.googleapis.com/revoke",
      userinfo: "https://openidconnect.googleapis.com/v1/userinfo",
    };
  },
};

/** Entra's tenant-independent endpoints; their ID tokens carry the user's own tenant as `iss`. */
const AZURE_MULTI_TENANT = new Set(["common", "organizations", "consumers"]);

const azure: ProviderPreset = {
  id: "azure",
  title: "Microsoft Entra ID (Azure AD, v2 endpoints)",
  clientIdVars: ["AZURE_CLIENT_ID"],
  clientSecretVars: ["AZURE_CLIENT_SECRET"],
  requiredVars: [],
  registerAt: "https://entra.microsoft.com → App registrations (platform: Mobile and desktop, redirect http://localhost; allow public client flows for --device)",
  defaultScopes: ["User.Read"],
  offlineScope: "offline_access",
  authorizationParams: {},
  // Entra ignores the port of http://localhost redirect URIs (RFC 8252 §7.3).
  loopbackAnyPort: true,
  redirectHost: "localhost",
  quirks: NO_QUIRKS,
  endpoints({ tenant }) {
    const t = tenant || "common";
    if (!/^[A-Za-z0-9.-]{1,128}$/.test(t)) {
      throw new BrokerError("PROVIDER_NOT_CONFIGURED", "AZURE_TENANT_ID must be a tenant id (GUID), a domain such as contoso.onmicrosoft.com, or common / organizations / consumers.");
    }
    const base = `https://login.microsoftonline.com/${t}`;
    return {
      issuer: AZURE_MULTI_TENANT.has(t) ? undefined : `${base}/v2.0`,
      discover: false,
      authorization: `${base}/oauth2/v2.0/authorize`,
      token: `${base}/oauth2/v2.0/token`,
      deviceAuthorization: `${base}/oauth2/v2.0/devicecode`,
      userinfo: "https://graph.microsoft.com/oidc/userinfo",
    };
  },
};

const okta: ProviderPreset = {
  id: "okta",
  title: "Okta",
  clientIdVars: ["OKTA_CLIENT_ID"],
  clientSecretVars: ["OKTA_CLIENT_SECRET"],
  requiredVars: ["OKTA_DOMAIN"],
  registerAt: "your Okta admin console → Applications → Create App Integration (OIDC, Native Application; enable Device Authorization for --device)",
  defaultScopes: ["openid", "profile"],
  offlineScope: "offline_access",
  authorizationParams: {},
  // Okta compares redirect URIs exactly, port included: wait for 9876 instead of moving.
  loopbackAnyPort: false,
  redirectHost: "localhost",
  quirks: NO_QUIRKS,
  endpoints({ domain }) {
    if (!domain) throw notConfigured(okta);
    // The org authorization server (https://{domain}); the original sent the browser to the
    // token endpoint instead of /authorize.
    const base = baseUrl(domain, "Okta domain (OKTA_DOMAIN)");
    return {
      issuer: base,
      discover: false,
      authorization: `${base}/oauth2/v1/authorize`,
      token: `${base}/oauth2/v1/token`,
      deviceAuthorization: `${base}/oauth2/v1/device/authorize`,
      revocation: `${base}/oauth2/v1/revoke`,
      userinfo: `${base}/oauth2/v1/userinfo`,
    };
  },
};

const oauth2: ProviderPreset = {
  id: "oauth2",
  title: "Any OAuth 2.0 / OpenID Connect server",
  clientIdVars: ["OAUTH2_CLIENT_ID"],
  clientSecretVars: ["OAUTH2_CLIENT_SECRET"],
  requiredVars: ["OAUTH2_ISSUER"],
  registerAt: "your authorization server (a native/public client with redirect URI http://127.0.0.1/oauth/callback, any port)",
  defaultScopes: ["openid"],
  // OpenID Connect Core §11: offline_access needs prompt=consent (added in flow.ts).
  offlineScope: "offline_access",
  authorizationParams: {},
  loopbackAnyPort: true,
  // RFC 8252 §8.3: a loopback IP literal rather than `localhost`.
  redirectHost: "127.0.0.1",
  quirks: NO_QUIRKS,
  endpoints({ issuer, overrides }) {
    const iss = overrides.issuer ?? issuer;
    if (overrides.authorizationEndpoint || overrides.tokenEndpoint) {
      if (!overrides.authorizationEndpoint || !overrides.tokenEndpoint) {
        throw new BrokerError("INVALID_INPUT", "Give both authorization_endpoint and token_endpoint, or neither (then OAUTH2_ISSUER is used for discovery).");
      }
      // A configured issuer (OAUTH2_ISSUER, provider add, login --issuer) is the user's choice
      // and wins: endpoints an agent passes to start_oauth_flow would otherwise send the
      // user's browser, and the sign-in, wherever the agent likes. They are used only when
      // nothing is configured (then without the client secret, see resolveProvider), and
      // only as https: or loopback http: URLs (checked by the URL policy there).
      if (!(overrides.fromAgent === true && iss)) return { issuer: iss, discover: false, authorization: overrides.authorizationEndpoint, token: overrides.tokenEndpoint };
    }
    if (!iss) throw notConfigured(oauth2);
    return { issuer: iss, discover: true };
  },
};

/** Every preset by id. */
export const PROVIDERS: Readonly<Record<ProviderId, ProviderPreset>> = { github, google, azure, okta, oauth2 };

/** The response quirks of a stored login's provider: its preset's, none for any other (a remote MCP server's). */
export function quirksOf(provider: string): ResponseQuirks {
  return isProviderId(provider) ? PROVIDERS[provider].quirks : NO_QUIRKS;
}

/** True when `name` is a provider id. */
export function isProviderId(name: string): name is ProviderId {
  return (PROVIDER_IDS as readonly string[]).includes(name);
}

/** Returns the preset for `name`, or an error listing the known ones. */
export function presetFor(name: string): ProviderPreset {
  if (isProviderId(name)) return PROVIDERS[name];
  throw new BrokerError("UNKNOWN_PROVIDER", `Unknown provider '${String(name).slice(0, 64)}'. Use one of: ${PROVIDER_IDS.join(", ")} (or an https:// issuer URL with login).`);
}

/** "A and B" / "A (or B)" lists for messages. */
function either(vars: readonly string[]): string {
  return vars.length === 1 ? vars[0]! : `${vars[0]} (or ${vars.slice(1).join(", ")})`;
}

/** The original broker's "not configured" guidance, naming the right variables for the provider. */
export function notConfigured(p: ProviderPreset): BrokerError {
  const vars = [either(p.clientIdVars), either(p.clientSecretVars), ...p.requiredVars];
  const list = vars.length === 2 ? `${vars[0]} and ${vars[1]}` : `${vars.slice(0, -1).join(", ")} and ${vars.at(-1)}`;
  const extra = p.id === "oauth2" ? " (or pass authorization_endpoint and token_endpoint)" : p.id === "azure" ? " (and AZURE_TENANT_ID for a single tenant)" : "";
  return new BrokerError(
    "PROVIDER_NOT_CONFIGURED",
    `Provider '${p.id}' is not configured. Set ${list} environment variables${extra}, or run: mcp-credentials-broker provider add ${p.id}. Register an app at ${p.registerAt}. The client secret may be left unset for a public client.`,
  );
}

/** A provider ready to use: preset, client credentials and endpoints. */
export interface ResolvedProvider {
  preset: LoginProfile;
  clientId: string;
  clientSecret?: string;
  server: ServerEndpoints;
  /** RFC 8707 §2: the resource (a remote MCP server) the token is for, sent on authorize, token and refresh requests. */
  resource?: string;
}

function sameOrigin(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  return URL.parse(a)?.origin === URL.parse(b)?.origin;
}

function firstSet(env: Env, vars: readonly string[]): string | undefined {
  for (const v of vars) {
    const value = env[v]?.trim();
    if (value) return value;
  }
  return undefined;
}

/**
 * The client id and secret for a provider: the environment's when its client id variable is
 * set, else the `provider add` settings; null when neither. A secret is never paired with a
 * client id from the other source.
 */
export function clientCredentials(id: ProviderId, env: Env, stored: StoredProviderSettings | null): { clientId: string; clientSecret?: string } | null {
  const preset = PROVIDERS[id];
  const envClientId = firstSet(env, preset.clientIdVars);
  if (envClientId) {
    const secret = firstSet(env, preset.clientSecretVars);
    return { clientId: envClientId, ...(secret ? { clientSecret: secret } : {}) };
  }
  if (!stored?.clientId) return null;
  return { clientId: stored.clientId, ...(stored.clientSecret ? { clientSecret: stored.clientSecret } : {}) };
}

/**
 * Resolves a provider from the environment (the original's variables win), else from
 * settings saved with `provider add`. Throws PROVIDER_NOT_CONFIGURED naming the variables.
 */
export function resolveProvider(id: ProviderId, env: Env, stored: StoredProviderSettings | null, overrides: EndpointOverrides = {}): ResolvedProvider {
  const preset = PROVIDERS[id];
  const creds = clientCredentials(id, env, stored);
  if (!creds) throw notConfigured(preset);
  const { clientId, clientSecret } = creds;
  const settings: PresetSettings = {
    issuer: env.OAUTH2_ISSUER?.trim() || stored?.issuer,
    domain: env.OKTA_DOMAIN?.trim() || stored?.domain,
    tenant: env.AZURE_TENANT_ID?.trim() || stored?.tenant,
    host: env.GITHUB_HOST?.trim() || stored?.host,
    overrides,
  };
  const server = preset.endpoints(settings);
  // Every endpoint passes the URL policy now, before anything is opened or fetched.
  for (const [k, v] of Object.entries(server)) if (typeof v === "string") parseSafeUrl(v, k === "issuer" ? "issuer" : `${k} endpoint`);
  // A token endpoint chosen by an agent gets the client secret only when it belongs to the
  // configured issuer: otherwise start_oauth_flow could send OAUTH2_CLIENT_SECRET anywhere.
  const agentChoseTokenEndpoint = overrides.fromAgent === true && overrides.tokenEndpoint !== undefined && server.token === overrides.tokenEndpoint;
  const secretAllowed = !agentChoseTokenEndpoint || sameOrigin(server.token, settings.issuer);
  return { preset, clientId, ...(clientSecret && secretAllowed ? { clientSecret } : {}), server };
}
