// The flags `connect` and `proxy` share for a remote server's client identity and scopes.
// Each mirrors an environment variable (mcp_auth_proxy style); the flags win. Credentials
// (CLIENT_SECRET, IDP_ID_TOKEN) have no flag: argv is visible to every user of the machine.

/** Flag → variable. */
export const REMOTE_CLIENT_VARS = {
  scopes: "SCOPES",
  "client-id": "CLIENT_ID",
  "client-metadata-url": "CLIENT_METADATA_URL",
  "client-credentials": "CLIENT_CREDENTIALS",
  "private-key": "PRIVATE_KEY_FILE",
  "signing-alg": "SIGNING_ALG",
  "cross-app": "CROSS_APP",
  "idp-token-endpoint": "IDP_TOKEN_ENDPOINT",
  "idp-client-id": "IDP_CLIENT_ID",
} as const;

export const remoteClientArgs = {
  scopes: { type: "string", description: "Scopes to ask for (SCOPES; default: the server's 401 challenge, else its metadata's scopes_supported, else none)", valueHint: "scopes" },
  "client-id": { type: "string", description: "A client registered with the server's authorization server (CLIENT_ID; its secret from CLIENT_SECRET or CLIENT_SECRET_FILE in the environment, never a flag)", valueHint: "id" },
  "client-metadata-url": { type: "string", description: "An https URL serving your client metadata, used as the client id where the server supports Client ID Metadata Documents (CLIENT_METADATA_URL)", valueHint: "url" },
  "client-credentials": { type: "boolean", description: "No browser: the client credentials grant with --client-id and CLIENT_SECRET or --private-key (CLIENT_CREDENTIALS=true)" },
  "private-key": { type: "string", description: "PEM (PKCS #8) private key file for private_key_jwt client authentication (PRIVATE_KEY_FILE)", valueHint: "file" },
  "signing-alg": { type: "string", description: "Algorithm of --private-key: ES256 (default), ES384, RS256, PS256, EdDSA (SIGNING_ALG)", valueHint: "alg" },
  "cross-app": { type: "boolean", description: "No browser: exchange your identity provider's ID token (IDP_ID_TOKEN in the environment) for access (CROSS_APP=true)" },
  "idp-token-endpoint": { type: "string", description: "Token endpoint of your identity provider, for --cross-app (IDP_TOKEN_ENDPOINT)", valueHint: "url" },
  "idp-client-id": { type: "string", description: "This app's client id at your identity provider, for --cross-app (IDP_CLIENT_ID)", valueHint: "id" },
} as const;

type Args = Record<string, unknown>;

/** `env` with the flags that were given laid over it. */
export function withRemoteClientFlags(env: Record<string, string | undefined>, args: Args): Record<string, string | undefined> {
  const merged = { ...env };
  for (const [flag, name] of Object.entries(REMOTE_CLIENT_VARS)) {
    const v = args[flag];
    if (typeof v === "string") merged[name] = v;
    else if (v === true) merged[name] = "true";
  }
  return merged;
}
