// The proxy's own settings, named as in mcp_auth_proxy (flags mirror them): where it
// listens, the address browsers and clients use, and the callback path.
import { BrokerError } from "../errors.ts";
import { optionalPort } from "../net/port.ts";
import { isLoopbackAddress, LOOPBACK_IPV4, loopbackHosts } from "../net/loopback.ts";

type Env = Record<string, string | undefined>;

export const DEFAULT_PROXY_PORT = 5177;
export const DEFAULT_BIND = LOOPBACK_IPV4;
export const DEFAULT_REDIRECT_PATH = "/oauth/callback";

export interface ProxyConfig {
  port: number;
  bind: string;
  /** PUBLIC_BASE_URL, else http://<bind or 127.0.0.1>:<port>: what the redirect URI and login link use. */
  publicBaseUrl: URL;
  redirectPath: string;
  /** Host header values (host:port) the proxy answers to; anything else is DNS rebinding. */
  allowedHosts: Set<string>;
  /** Set when the proxy listens beyond this machine (BIND explicit), or when HOST asked for that without BIND: shown at start. */
  warning?: string;
}

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/** True for a bind address that only this machine can reach. */
export function isLoopbackBind(address: string): boolean {
  return address === "localhost" || isLoopbackAddress(address);
}

/** Paths the proxy answers itself, before the callback: a callback there would never be reached. */
const OWN_PATHS = ["/", "/health", "/oauth/status", "/oauth/login", "/oauth/logout"];

/**
 * REDIRECT_PATH as the proxy compares it with a request's path, or CONFIG_INVALID when no
 * callback could ever match it: a request path is normalised before the comparison (WHATWG
 * URL removes `.` and `..` segments, RFC 3986 §5.2.4), and an empty segment (`//`) makes the
 * redirect URI ambiguous; /mcp and the proxy's own endpoints are served before the callback.
 */
export function checkRedirectPath(path: string): string {
  const example = "Use a path like /oauth/callback.";
  if (!/^\/[A-Za-z0-9._~\/-]*$/.test(path)) throw new BrokerError("CONFIG_INVALID", `REDIRECT_PATH must start with / and hold only letters, digits and . _ ~ - / (got ${JSON.stringify(path.slice(0, 64))}). ${example}`);
  const segments = path.split("/").slice(1);
  if (segments.some((s) => s === "." || s === "..")) throw new BrokerError("CONFIG_INVALID", `REDIRECT_PATH ${JSON.stringify(path.slice(0, 64))} has a '.' or '..' segment: browsers remove those from the URL, so the callback would never match. ${example}`);
  if (segments.slice(0, -1).some((s) => s === "")) throw new BrokerError("CONFIG_INVALID", `REDIRECT_PATH ${JSON.stringify(path.slice(0, 64))} has an empty segment ('//'), which makes the redirect URI ambiguous. ${example}`);
  if (path.startsWith("/mcp")) throw new BrokerError("CONFIG_INVALID", `REDIRECT_PATH must not be under /mcp: those requests go to the upstream server. ${example}`);
  if (OWN_PATHS.includes(path)) throw new BrokerError("CONFIG_INVALID", `REDIRECT_PATH ${path} is one of the proxy's own endpoints (${OWN_PATHS.slice(1).join(", ")}, /): the callback would never be reached. ${example}`);
  return path;
}

/**
 * Reads PORT, BIND, PUBLIC_BASE_URL and REDIRECT_PATH. The listening address is BIND and
 * nothing else: a non-loopback PUBLIC_BASE_URL never widens it (docs/security.md §Local listeners);
 * a non-loopback BIND is honoured only because it was set explicitly, with a warning.
 */
export function proxyConfig(env: Env): ProxyConfig {
  const port: number = optionalPort(value(env, "PORT"), "PORT") ?? DEFAULT_PROXY_PORT;
  const bind = value(env, "BIND") ?? DEFAULT_BIND;
  const redirectPath = checkRedirectPath(value(env, "REDIRECT_PATH") ?? DEFAULT_REDIRECT_PATH);
  const rawBase = value(env, "PUBLIC_BASE_URL");
  let publicBaseUrl: URL;
  try {
    publicBaseUrl = new URL(rawBase ?? `http://${isLoopbackBind(bind) && !bind.includes(":") ? bind : LOOPBACK_IPV4}:${port}`);
  } catch {
    throw new BrokerError("CONFIG_INVALID", "PUBLIC_BASE_URL must be an absolute URL such as https://mcp-proxy.example.com.");
  }
  if (publicBaseUrl.protocol !== "http:" && publicBaseUrl.protocol !== "https:") throw new BrokerError("CONFIG_INVALID", "PUBLIC_BASE_URL must be an http: or https: URL.");
  const hosts = loopbackHosts(port).add(publicBaseUrl.host);
  if (!isLoopbackBind(bind)) hosts.add(bind.includes(":") && !bind.startsWith("[") ? `[${bind}]:${port}` : `${bind}:${port}`);
  // Containers and PaaS often set HOST=0.0.0.0 for every program; that is not consent to expose a login.
  const host = value(env, "HOST");
  const warning = !isLoopbackBind(bind)
    ? `BIND=${bind}: the proxy is reachable from other machines, and anyone who can reach it acts with your login. Put it behind TLS and access control, or use the default 127.0.0.1.`
    : host && !isLoopbackBind(host) && value(env, "BIND") === undefined
      ? `Ignoring HOST=${host.slice(0, 64)}: the proxy listens on ${bind} only. Set BIND explicitly to listen on another address.`
      : undefined;
  return { port, bind, publicBaseUrl, redirectPath, allowedHosts: hosts, ...(warning ? { warning } : {}) };
}
