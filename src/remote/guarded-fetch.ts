// The fetch every discovery, registration and token request for a remote server goes
// through: the address policy decides each URL before a connection is opened, and
// redirects are never followed (oauth4webapi treats a 3xx as an error), so no hop escapes.
//
// A name is connected to at an address the policy decided on, not looked up a second time
// by fetch: otherwise a hostile DNS server can answer the check with a public address and
// the connection with 169.254.169.254 (DNS rebinding past the SSRF check, docs/security.md §Remote discovery).
// The request goes to the IP with the name in Host and, over TLS, as the SNI name the
// certificate must match (RFC 9110 §7.2, RFC 6066 §3), so the server sees the same request.
import { BrokerError } from "../errors.ts";
import { fetchFailureMessage, networkErrorCode } from "../net-errors.ts";
import type { FetchLike } from "../oauth/http.ts";
import { checkDiscoveryTarget, type ProxyMode, type Resolver } from "./address-policy.ts";

/** Proxy variables Bun's fetch honours: with one set, the proxy resolves names, not us. */
const PROXY_VARIABLES = ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"] as const;

/** Connection failures after which the next decided address is tried (nothing was sent). */
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ConnectionRefused", "ENETUNREACH", "NetworkUnreachable", "EHOSTUNREACH", "HostUnreachable", "EADDRNOTAVAIL"]);

/** Whether fetch would send requests through a proxy configured in the environment. */
export function proxyConfigured(env: Readonly<Record<string, string | undefined>>): boolean {
  return PROXY_VARIABLES.some((name) => (env[name] ?? "").trim() !== "");
}

/** The address policy's view of the proxy: MCB_PROXY_RESOLVES_NAMES counts only with a proxy set. */
export function proxyMode(env: Readonly<Record<string, string | undefined>>): ProxyMode {
  if (!proxyConfigured(env)) return "none";
  return /^(1|true|yes)$/i.test(env.MCB_PROXY_RESOLVES_NAMES?.trim() ?? "") ? "resolves-names" : "configured";
}

/** `url` with its host replaced by `address` (an IP literal; IPv6 bracketed). */
export function pinnedUrl(url: URL, address: string): string {
  const pinned = new URL(url.href);
  pinned.hostname = address.includes(":") ? `[${address}]` : address;
  return pinned.href;
}

/** The request init for a connection to an address in place of `url`'s name: Host and the TLS server name keep the name. */
function pinnedInit(url: URL, init: RequestInit | undefined, input: string | URL | Request): RequestInit {
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  headers.set("host", url.host);
  const tls = (init as { tls?: Record<string, unknown> } | undefined)?.tls;
  return { ...init, headers, redirect: "manual", ...(url.protocol === "https:" ? { tls: { ...tls, serverName: url.hostname } } : {}) } as RequestInit;
}

/**
 * Wraps `base` so that every request URL is checked against the policy for `server`, and a
 * name is connected to at an address that was checked (unless a proxy from the environment
 * does the connecting).
 */
export function guardFetch(base: FetchLike, server: URL, resolve: Resolver, env: Readonly<Record<string, string | undefined>>): FetchLike {
  const proxy = proxyMode(env);
  return async (input, init) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    const addresses = await checkDiscoveryTarget(url, server, resolve, "OAuth request", proxy);
    try {
      // Behind a proxy the request keeps its name: the proxy connects, and NO_PROXY is matched
      // against the name (an IP would not match it). The check above still ran.
      if (!addresses || addresses.length === 0 || proxy !== "none") return await base(input, { ...init, redirect: "manual" });
      const request = pinnedInit(url, init, input);
      for (let i = 0; ; i++) {
        const target = pinnedUrl(url, addresses[i]!);
        try {
          return await base(input instanceof Request ? new Request(target, input) : target, request);
        } catch (e) {
          // Like a connect() to a name: on to the next address only when this one took nothing.
          if (i + 1 >= addresses.length || !NOT_CONNECTED.has(networkErrorCode(e) ?? "")) throw e;
        }
      }
    } catch (e) {
      // Messages name the URL's own origin, never the address it was pinned to.
      const message = fetchFailureMessage(e, url.origin);
      if (message === null) throw e;
      throw new BrokerError("REMOTE_UNREACHABLE", message, { cause: e });
    }
  };
}

/** node:dns `lookup` with every address, loaded on first use. */
export const systemResolver: Resolver = async (name) => {
  const { lookup } = await import("node:dns/promises");
  return (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);
};
