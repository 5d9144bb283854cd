// The settings a bundle's host asks for (MCP Bundle `user_config`) and the MCP Registry lists
// (`environmentVariables`): one row per environment variable that README.md documents for the
// stdio broker ("Log in with OAuth" provider table and "Configuration"), so the manifest and
// server.json are rendered from the same facts.

export interface BundleSetting {
  /** Key in the manifest's `user_config`; mcp_config.env refers to it as `${user_config.<key>}`. */
  key: string;
  /** The environment variable the broker reads. */
  env: string;
  /** Other names README.md gives for the same setting (read after `env`, so `env` wins). */
  aliases?: readonly string[];
  title: string;
  description: string;
  /** MCPB user_config types (anthropics/mcpb MANIFEST.md, "User Configuration"): what the settings form shows. */
  type: "string" | "number" | "directory";
  /** Client secrets, signing and encryption keys: the form masks them and the host stores them
   * securely (MANIFEST.md: "sensitive: For string types, mask input and store securely"). */
  sensitive?: boolean;
  /**
   * Every setting is optional and has a default. @anthropic-ai/mcpb's getMcpConfigForManifest
   * (the code Claude Desktop uses) substitutes `${user_config.KEY}` only when the user or a
   * default gave KEY a value; otherwise the literal `${user_config.KEY}` reaches the broker as
   * the variable's value. An empty string is what the broker reads as unset (src/config.ts,
   * src/oauth/providers.ts); numbers default to the broker's own defaults (README "Configuration").
   */
  default: string | number;
  min?: number;
  max?: number;
  /** The only values the broker accepts (server.json `choices`). */
  choices?: readonly string[];
}

export const BUNDLE_SETTINGS: readonly BundleSetting[] = [
  { key: "github_client_id", env: "GITHUB_CLIENT_ID", title: "GitHub client ID", description: "Client ID of your GitHub OAuth App or GitHub App, for `login github` / start_oauth_flow (device flow needs \"Enable Device Flow\"). Leave empty if you do not sign in to GitHub.", type: "string", default: "" },
  { key: "github_client_secret", env: "GITHUB_CLIENT_SECRET", title: "GitHub client secret", description: "That app's client secret; may stay empty for a public client (PKCE only).", type: "string", sensitive: true, default: "" },
  { key: "github_host", env: "GITHUB_HOST", title: "GitHub Enterprise Server host", description: "Your GitHub Enterprise Server host, e.g. github.example.com. Empty: github.com.", type: "string", default: "" },
  // src/oauth/providers.ts reads GCP_* before GOOGLE_*: setting the first name makes the form's
  // value win over a GOOGLE_* the host may pass through from its own environment.
  { key: "google_client_id", env: "GCP_CLIENT_ID", aliases: ["GOOGLE_CLIENT_ID"], title: "Google client ID", description: "Client ID of a Google Cloud \"Desktop app\" OAuth client, for `login google`.", type: "string", default: "" },
  { key: "google_client_secret", env: "GCP_CLIENT_SECRET", aliases: ["GOOGLE_CLIENT_SECRET"], title: "Google client secret", description: "That client's secret.", type: "string", sensitive: true, default: "" },
  { key: "azure_client_id", env: "AZURE_CLIENT_ID", title: "Microsoft Entra client ID", description: "Application (client) ID of an Entra app registration, for `login azure`.", type: "string", default: "" },
  { key: "azure_client_secret", env: "AZURE_CLIENT_SECRET", title: "Microsoft Entra client secret", description: "That app's client secret; may stay empty for a public client.", type: "string", sensitive: true, default: "" },
  { key: "azure_tenant_id", env: "AZURE_TENANT_ID", title: "Microsoft Entra tenant", description: "Tenant ID (GUID) or domain such as contoso.onmicrosoft.com, or common / organizations / consumers. Empty: common.", type: "string", default: "" },
  { key: "okta_domain", env: "OKTA_DOMAIN", title: "Okta domain", description: "Your Okta org, e.g. example.okta.com (required to sign in with Okta).", type: "string", default: "" },
  { key: "okta_client_id", env: "OKTA_CLIENT_ID", title: "Okta client ID", description: "Client ID of an Okta app integration, for `login okta` (register the redirect URI http://localhost:9876/oauth/callback).", type: "string", default: "" },
  { key: "okta_client_secret", env: "OKTA_CLIENT_SECRET", title: "Okta client secret", description: "That app's client secret; may stay empty for a public client.", type: "string", sensitive: true, default: "" },
  { key: "oauth2_issuer", env: "OAUTH2_ISSUER", title: "OAuth 2.0 / OIDC issuer", description: "Issuer URL of any OAuth 2.0 or OpenID Connect server (endpoints are discovered from it), for `login oauth2`.", type: "string", default: "" },
  { key: "oauth2_client_id", env: "OAUTH2_CLIENT_ID", title: "OAuth 2.0 client ID", description: "Client ID registered at that server.", type: "string", default: "" },
  { key: "oauth2_client_secret", env: "OAUTH2_CLIENT_SECRET", title: "OAuth 2.0 client secret", description: "That client's secret; may stay empty for a public client.", type: "string", sensitive: true, default: "" },
  { key: "jwt_secret", env: "JWT_SECRET", title: "JWT signing secret", description: "At least 32 bytes: minted tokens are signed HS256 with it. Empty: ES256 with a key pair created once and kept in the store.", type: "string", sensitive: true, default: "" },
  { key: "store", env: "MCB_STORE", title: "Secret storage", description: "auto (the OS keychain when it answers, else the file store), keychain, file or memory (nothing persists). Must not be empty.", type: "string", default: "auto", choices: ["auto", "keychain", "file", "memory"] },
  { key: "store_key", env: "MCB_STORE_KEY", title: "File store passphrase", description: "Encrypts the file store (secrets.jsonl) with AES-256-GCM under a key derived from this passphrase. Used only when secrets live in the file store.", type: "string", sensitive: true, default: "" },
  { key: "data_dir", env: "MCB_HOME", title: "Data directory", description: "Where the broker keeps its audit log, index and file store. Empty: the platform's per-user data directory.", type: "directory", default: "" },
  { key: "keychain_service", env: "MCB_KEYCHAIN_SERVICE", title: "Keychain service name", description: "Service name of the broker's keychain items. Empty: mcp-credentials-broker.", type: "string", default: "" },
  { key: "callback_port", env: "MCB_CALLBACK_PORT", title: "OAuth callback port", description: "Loopback port the sign-in callback listens on (the port registered with your OAuth app).", type: "number", default: 9876, min: 1, max: 65535 },
  { key: "login_timeout", env: "MCB_LOGIN_TIMEOUT", title: "Sign-in timeout (seconds)", description: "How long a sign-in waits for the browser or the device approval.", type: "number", default: 300, min: 1, max: 3600 },
];

/**
 * README "Configuration" variables the bundle does not ask for, and why. test/scripts checks
 * that every variable README documents is either a setting above or listed here.
 */
export const NOT_IN_BUNDLE: Readonly<Record<string, string>> = {
  MCB_DEBUG: "any non-empty value turns debugging on, so a form's \"false\" could not turn it off",
  MCB_AUDIT_MAX_BYTES: "audit log rotation size: an operator's setting, the default suits a desktop",
  MCB_PROXY_RESOLVES_NAMES: "read by `connect` and `proxy`, not by the stdio broker a bundle runs",
  BROWSER: "desktop hosts run where the platform's own browser opener works",
  MCB_APPROVAL_TIMEOUT: "how long an OS approval dialog waits: a tuning knob whose default (120 s) suits a person at the desk",
};

/** The manifest's `user_config` object, in table order. */
export function manifestUserConfig(settings: readonly BundleSetting[] = BUNDLE_SETTINGS): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    settings.map((s) => [
      s.key,
      {
        type: s.type,
        title: s.title,
        description: s.description,
        required: false,
        default: s.default,
        ...(s.sensitive ? { sensitive: true } : {}),
        ...(s.min !== undefined ? { min: s.min } : {}),
        ...(s.max !== undefined ? { max: s.max } : {}),
      },
    ]),
  );
}

/** mcp_config.env: each variable set from its setting (MANIFEST.md "Variable Substitution"). */
export function manifestEnv(settings: readonly BundleSetting[] = BUNDLE_SETTINGS): Record<string, string> {
  return Object.fromEntries(settings.map((s) => [s.env, `\${user_config.${s.key}}`]));
}

/** server.json `environmentVariables` (registry schema `KeyValueInput`), in table order. */
export function registryEnvironmentVariables(settings: readonly BundleSetting[] = BUNDLE_SETTINGS): Record<string, unknown>[] {
  return settings.map((s) => ({
    name: s.env,
    description: s.description,
    isRequired: false,
    ...(s.sensitive ? { isSecret: true } : {}),
    ...(s.type === "number" ? { format: "number" } : {}),
    ...(s.default !== "" ? { default: String(s.default) } : {}),
    ...(s.choices ? { choices: [...s.choices] } : {}),
  }));
}
