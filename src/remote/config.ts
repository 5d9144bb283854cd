// Settings of a remote MCP server's login, from mcp_auth_proxy's variables (flags mirror
// them): where the server is, how to find or name its authorization server, which client.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { BrokerError } from "../errors.ts";
import { parseSafeUrl, type SafeUrl } from "../oauth/url-policy.ts";
import { INTERNAL_PREFIX, REMOTE_TOKEN_PREFIX } from "../core/store.ts";

type Env = Record<string, string | undefined>;

/** How a token is had: a user's sign-in, or a machine's own credentials (no browser). */
export type RemoteGrant = "authorization_code" | "client_credentials" | "cross_app";

/** Signing algorithms taken for private_key_jwt (RFC 7523 §2.2). */
export const SIGNING_ALGS = ["ES256", "ES384", "RS256", "PS256", "EdDSA"] as const;

export interface RemoteConfig {
  /** The remote MCP endpoint (Streamable HTTP), also the RFC 8707 resource. */
  server: SafeUrl;
  /** What the login is stored under: KEYCHAIN_SERVICE, else the server URL. */
  key: string;
  /** AUTHORIZATION_ENDPOINT + TOKEN_ENDPOINT (+ ISSUER): skip discovery. */
  endpoints?: { authorization: SafeUrl; token: SafeUrl; issuer?: string };
  /** CLIENT_ID (+ CLIENT_SECRET): a pre-registered client instead of RFC 7591. */
  client?: { id: string; secret?: string };
  /** AUTO_REGISTER_CLIENT (default true). */
  autoRegister: boolean;
  /** SCOPES, space- or comma-separated. */
  scopes?: string[];
  /** PROBE_PATH: a further path on the server's origin to look for RFC 9728 metadata. */
  probePath?: string;
  /** CLIENT_METADATA_URL: an https URL serving our client metadata, used as the client id
   * where the server supports Client ID Metadata Documents. */
  clientMetadataUrl?: string;
  /** CLIENT_CREDENTIALS=true (RFC 6749 §4.4) or CROSS_APP=true (identity assertion grant). */
  grant: RemoteGrant;
  /** PRIVATE_KEY_FILE (+ SIGNING_ALG): private_key_jwt client authentication (RFC 7523 §2.2). */
  privateKey?: { file: string; alg: (typeof SIGNING_ALGS)[number] };
  /** The enterprise identity provider of the cross-app access flow. */
  idp?: { tokenEndpoint: string; clientId: string; clientSecret?: string; idToken: string };
}

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/** Reads the remote settings for `serverUrl` from `env`; a startup error for half-given endpoints. */
export function remoteConfig(serverUrl: string | undefined, env: Env): RemoteConfig {
  const raw = serverUrl ?? value(env, "UPSTREAM_MCP_URL");
  if (!raw) throw new BrokerError("INVALID_INPUT", "No remote MCP server given. Pass its URL (e.g. https://mcp.example.com/mcp) or set UPSTREAM_MCP_URL.");
  const server = parseSafeUrl(raw, "remote MCP server URL");
  const authorization = value(env, "AUTHORIZATION_ENDPOINT");
  const token = value(env, "TOKEN_ENDPOINT");
  if ((authorization === undefined) !== (token === undefined)) {
    throw new BrokerError("CONFIG_INVALID", `${authorization ? "AUTHORIZATION_ENDPOINT is set without TOKEN_ENDPOINT" : "TOKEN_ENDPOINT is set without AUTHORIZATION_ENDPOINT"}: the two must come together (plus ISSUER when the server has one), or leave both unset to discover them from the server.`);
  }
  const issuer = value(env, "ISSUER");
  const id = value(env, "CLIENT_ID");
  const secret = value(env, "CLIENT_SECRET") ?? secretFile(value(env, "CLIENT_SECRET_FILE"));
  if (secret && !id) throw new BrokerError("CONFIG_INVALID", "CLIENT_SECRET is set without CLIENT_ID. Set both, or neither to register a client dynamically.");
  const grant = grantOf(env);
  const keyFile = value(env, "PRIVATE_KEY_FILE");
  const alg = value(env, "SIGNING_ALG") ?? "ES256";
  if (!(SIGNING_ALGS as readonly string[]).includes(alg)) throw new BrokerError("CONFIG_INVALID", `SIGNING_ALG must be one of ${SIGNING_ALGS.join(", ")}.`);
  if (grant !== "authorization_code" && !id) throw new BrokerError("CONFIG_INVALID", `${grant === "cross_app" ? "--cross-app" : "--client-credentials"} needs the client's id: set CLIENT_ID (--client-id).`);
  if (grant === "client_credentials" && !secret && !keyFile) throw new BrokerError("CONFIG_INVALID", "--client-credentials needs the client's secret (CLIENT_SECRET or CLIENT_SECRET_FILE in the environment) or a private key (--private-key FILE).");
  const idp = grant === "cross_app" ? idpOf(env) : undefined;
  const metadataUrl = value(env, "CLIENT_METADATA_URL");
  if (metadataUrl !== undefined) checkMetadataUrl(metadataUrl);
  const auto = value(env, "AUTO_REGISTER_CLIENT");
  if (auto !== undefined && !/^(true|false|1|0|yes|no)$/i.test(auto)) throw new BrokerError("CONFIG_INVALID", "AUTO_REGISTER_CLIENT must be true or false.");
  const scopes = value(env, "SCOPES")?.split(/[\s,]+/).filter(Boolean);
  return {
    server,
    key: value(env, "KEYCHAIN_SERVICE") ?? server.href,
    ...(authorization && token ? { endpoints: { authorization: parseSafeUrl(authorization, "AUTHORIZATION_ENDPOINT"), token: parseSafeUrl(token, "TOKEN_ENDPOINT"), ...(issuer ? { issuer } : {}) } } : {}),
    ...(id ? { client: { id, ...(secret ? { secret } : {}) } } : {}),
    autoRegister: auto === undefined || /^(true|1|yes)$/i.test(auto),
    ...(scopes && scopes.length > 0 ? { scopes } : {}),
    ...(value(env, "PROBE_PATH") ? { probePath: value(env, "PROBE_PATH") } : {}),
    ...(metadataUrl ? { clientMetadataUrl: metadataUrl } : {}),
    grant,
    ...(keyFile ? { privateKey: { file: keyFile, alg: alg as (typeof SIGNING_ALGS)[number] } } : {}),
    ...(idp ? { idp } : {}),
  };
}

function flag(env: Env, name: string): boolean {
  const v = value(env, name);
  if (v === undefined) return false;
  if (!/^(true|false|1|0|yes|no)$/i.test(v)) throw new BrokerError("CONFIG_INVALID", `${name} must be true or false.`);
  return /^(true|1|yes)$/i.test(v);
}

function grantOf(env: Env): RemoteGrant {
  const cc = flag(env, "CLIENT_CREDENTIALS");
  const xaa = flag(env, "CROSS_APP");
  if (cc && xaa) throw new BrokerError("CONFIG_INVALID", "Choose one of --client-credentials and --cross-app.");
  return cc ? "client_credentials" : xaa ? "cross_app" : "authorization_code";
}

/** A secret read from a file (a container secret, say): argv never carries one. */
function secretFile(path: string | undefined): string | undefined {
  if (!path) return undefined;
  try {
    const v = readFileSync(path, "utf8").trim();
    return v || undefined;
  } catch (e) {
    throw new BrokerError("CONFIG_INVALID", `CLIENT_SECRET_FILE cannot be read (${(e as { code?: string }).code ?? "error"}). Check the path and its permissions.`);
  }
}

function idpOf(env: Env): RemoteConfig["idp"] {
  const tokenEndpoint = value(env, "IDP_TOKEN_ENDPOINT");
  const clientId = value(env, "IDP_CLIENT_ID");
  const idToken = value(env, "IDP_ID_TOKEN");
  const missing = [!tokenEndpoint && "IDP_TOKEN_ENDPOINT (--idp-token-endpoint)", !clientId && "IDP_CLIENT_ID (--idp-client-id)", !idToken && "IDP_ID_TOKEN (environment only: it is a credential)"].filter(Boolean);
  if (missing.length > 0) throw new BrokerError("CONFIG_INVALID", `--cross-app needs the identity provider's ${missing.join(", ")}.`);
  const secret = value(env, "IDP_CLIENT_SECRET");
  return { tokenEndpoint: parseSafeUrl(tokenEndpoint!, "IDP_TOKEN_ENDPOINT").href, clientId: clientId!, idToken: idToken!, ...(secret ? { clientSecret: secret } : {}) };
}

/** Client ID Metadata Documents: the client id is an https URL with a path (never loopback http: the server fetches it). */
function checkMetadataUrl(raw: string): void {
  if (!URL.canParse(raw)) throw new BrokerError("CONFIG_INVALID", "CLIENT_METADATA_URL must be an https URL, e.g. https://example.com/mcp-client.json.");
  const u = new URL(raw);
  if (u.protocol !== "https:" || u.pathname === "/" || u.hash || u.username || u.password) {
    throw new BrokerError("CONFIG_INVALID", "CLIENT_METADATA_URL must be an https URL with a path and no fragment or credentials, e.g. https://example.com/mcp-client.json.");
  }
}

function digest(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 24);
}

/** Prefix of stored remote logins (their `upstream` tag names the server). */
export { REMOTE_TOKEN_PREFIX };

/** Store names of a remote server's token and client registration (internal: never listed or handed to agents). */
export function remoteNames(cfg: RemoteConfig): { token: string; client: string } {
  const d = digest(cfg.key);
  return { token: `${REMOTE_TOKEN_PREFIX}${d}`, client: `${INTERNAL_PREFIX}remote-client:${d}` };
}
