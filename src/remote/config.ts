// Settings of a remote MCP server's login, from mcp_auth_proxy's variables (flags mirror
// them): where the server is, how to find or name its authorization server, which client.
import { createHash } from "node:crypto";
import { BrokerError } from "../errors.ts";
import { parseSafeUrl } from "../oauth/url-policy.ts";
import { INTERNAL_PREFIX } from "../store/store.ts";

type Env = Record<string, string | undefined>;

/** MCP authorization spec's usual scopes, used when neither SCOPES nor the metadata name any. */
export const DEFAULT_REMOTE_SCOPES = ["mcp:tools", "mcp:resources", "offline_access"] as const;

export interface RemoteConfig {
  /** The remote MCP endpoint (Streamable HTTP), also the RFC 8707 resource. */
  server: URL;
  /** What the login is stored under: KEYCHAIN_SERVICE, else the server URL. */
  key: string;
  /** AUTHORIZATION_ENDPOINT + TOKEN_ENDPOINT (+ ISSUER): skip discovery. */
  endpoints?: { authorization: string; token: string; issuer?: string };
  /** CLIENT_ID (+ CLIENT_SECRET): a pre-registered client instead of RFC 7591. */
  client?: { id: string; secret?: string };
  /** AUTO_REGISTER_CLIENT (default true). */
  autoRegister: boolean;
  /** SCOPES, space- or comma-separated. */
  scopes?: string[];
  /** PROBE_PATH: a further path on the server's origin to look for RFC 9728 metadata. */
  probePath?: string;
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
  const secret = value(env, "CLIENT_SECRET");
  if (secret && !id) throw new BrokerError("CONFIG_INVALID", "CLIENT_SECRET is set without CLIENT_ID. Set both, or neither to register a client dynamically.");
  const auto = value(env, "AUTO_REGISTER_CLIENT");
  if (auto !== undefined && !/^(true|false|1|0|yes|no)$/i.test(auto)) throw new BrokerError("CONFIG_INVALID", "AUTO_REGISTER_CLIENT must be true or false.");
  const scopes = value(env, "SCOPES")?.split(/[\s,]+/).filter(Boolean);
  return {
    server,
    key: value(env, "KEYCHAIN_SERVICE") ?? server.href,
    ...(authorization && token ? { endpoints: { authorization: parseSafeUrl(authorization, "AUTHORIZATION_ENDPOINT").href, token: parseSafeUrl(token, "TOKEN_ENDPOINT").href, ...(issuer ? { issuer } : {}) } } : {}),
    ...(id ? { client: { id, ...(secret ? { secret } : {}) } } : {}),
    autoRegister: auto === undefined || /^(true|1|yes)$/i.test(auto),
    ...(scopes && scopes.length > 0 ? { scopes } : {}),
    ...(value(env, "PROBE_PATH") ? { probePath: value(env, "PROBE_PATH") } : {}),
  };
}

function digest(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 24);
}

/** Prefix of stored remote logins (their `upstream` tag names the server). */
export const REMOTE_TOKEN_PREFIX = `${INTERNAL_PREFIX}remote-token:`;

/** Store names of a remote server's token and client registration (internal: never listed or handed to agents). */
export function remoteNames(cfg: RemoteConfig): { token: string; client: string } {
  const d = digest(cfg.key);
  return { token: `${REMOTE_TOKEN_PREFIX}${d}`, client: `${INTERNAL_PREFIX}remote-client:${d}` };
}
