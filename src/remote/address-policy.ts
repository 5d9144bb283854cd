// Where a remote MCP server's discovery may send us (SSRF guard). Metadata documents are
// written by whoever runs the server, so every URL they name — authorization servers,
// endpoints, each redirect hop — is classified and decided here before any connection.
// Pure functions (the resolver is injected), so the policy is tested as a table without
// sending a packet anywhere.
import { BrokerError } from "../errors.ts";
import { networkErrorCode } from "../net-errors.ts";
import { parseIPv4, parseIPv6 } from "../net/ip.ts";

/** Where an address points. `reserved` covers multicast, broadcast and the unspecified address. */
export type AddressClass = "loopback" | "private" | "link-local" | "reserved" | "public";

function v4Class(o: number[]): AddressClass {
  const [a, b] = o as [number, number, number, number];
  if (a === 127) return "loopback";
  // 0.0.0.0/8 reaches this host on Linux; treat it like loopback.
  if (a === 0) return "loopback";
  // RFC 3927: 169.254.0.0/16 holds the cloud metadata endpoints (169.254.169.254).
  if (a === 169 && b === 254) return "link-local";
  // RFC 1918, RFC 6598 (carrier-grade NAT), RFC 2544 (benchmarking).
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || (a === 198 && (b === 18 || b === 19))) return "private";
  if (a >= 224) return "reserved";
  return "public";
}

function v6Class(g: number[]): AddressClass {
  const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroTo(7) && g[7] === 1) return "loopback";
  if (zeroTo(8)) return "reserved";
  // RFC 4291 §2.5.5.2 IPv4-mapped (::ffff:a.b.c.d) and RFC 6052 NAT64 (64:ff9b::/96): the IPv4 address decides.
  if ((zeroTo(5) && g[5] === 0xffff) || (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))) {
    return v4Class([g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff]);
  }
  if ((g[0]! & 0xffc0) === 0xfe80) return "link-local";
  // RFC 4193 unique local fc00::/7, and the deprecated site-local fec0::/10.
  if ((g[0]! & 0xfe00) === 0xfc00 || (g[0]! & 0xffc0) === 0xfec0) return "private";
  if ((g[0]! & 0xff00) === 0xff00) return "reserved";
  return "public";
}

/**
 * Classifies an IP literal (dotted quad, or IPv6 with or without brackets); null for a
 * name. Give it WHATWG-parsed hostnames: the URL parser has already turned decimal
 * (`2130706433`), hex (`0x7f.1`) and octal IPv4 forms into dotted quads.
 */
export function classifyAddress(host: string): AddressClass | null {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const v4 = parseIPv4(bare);
  if (v4) return v4Class(v4);
  if (bare.includes(":")) {
    const v6 = parseIPv6(bare);
    return v6 ? v6Class(v6) : "reserved";
  }
  return null;
}

/** Classifies a hostname that is not a literal: `localhost` names this machine (RFC 6761 §6.3). */
function nameClass(name: string): AddressClass | null {
  const n = name.toLowerCase().replace(/\.$/, "");
  return n === "localhost" || n.endsWith(".localhost") ? "loopback" : null;
}

/**
 * Whether a target of class `target` may be contacted during discovery of a server whose
 * own address is of class `configured`: link-local and reserved never (cloud metadata);
 * private and loopback only when the configured server is itself private or loopback.
 */
export function mayContact(target: AddressClass, configured: AddressClass): boolean {
  if (target === "link-local" || target === "reserved") return false;
  if (target === "public") return true;
  return configured !== "public";
}

/** Resolves a name to its addresses (node:dns `lookup` with `all: true` in production). */
export type Resolver = (name: string) => Promise<string[]>;

/**
 * How outbound requests leave this machine: directly (`none`); through HTTP(S)_PROXY
 * (`configured`); or through a proxy that alone resolves outside names, so a name this machine
 * cannot resolve goes to the proxy unchecked (`resolves-names`, the MCB_PROXY_RESOLVES_NAMES
 * opt-in for networks without outside DNS).
 */
export type ProxyMode = "none" | "configured" | "resolves-names";

/** Where a URL's host points: its class, and for a resolved name the addresses that were classified. */
export interface ResolvedTarget {
  cls: AddressClass;
  /** The resolved addresses (all of them decided the class); null for a literal or `localhost`. */
  addresses: string[] | null;
}

/**
 * Classifies a URL's host: a literal or `localhost` as it is, a name by the most restrictive
 * of its resolved addresses. A name this machine cannot resolve is refused, unless the user
 * said the proxy resolves names (`resolves-names`): then it is the proxy's to reach, taken as
 * public — private and loopback targets stay refused for it, literals are still checked.
 */
export async function resolveTarget(url: URL, resolve: Resolver, proxy: ProxyMode = "none"): Promise<ResolvedTarget> {
  const literal = classifyAddress(url.hostname) ?? nameClass(url.hostname);
  if (literal) return { cls: literal, addresses: null };
  let addresses: string[];
  try {
    addresses = await resolve(url.hostname);
  } catch (e) {
    if (proxy === "resolves-names") return { cls: "public", addresses: null };
    // Fail closed, but say why: the address is checked before any connection, so a name this
    // machine cannot resolve (say, one only a corporate proxy can) is not contacted.
    const code = networkErrorCode(e);
    const hint =
      proxy === "configured"
        ? " If only your proxy (HTTPS_PROXY) can resolve outside names, set MCB_PROXY_RESOLVES_NAMES=1 to send such names to it unchecked."
        : " Check the URL and this machine's DNS.";
    throw new BrokerError("REMOTE_UNREACHABLE", `Cannot resolve ${url.hostname}${code ? ` (${code})` : ""}. The broker checks the address of every server it contacts while signing in before connecting to it.${hint}`, { cause: e });
  }
  const order: AddressClass[] = ["link-local", "reserved", "private", "loopback", "public"];
  const classes = addresses.map((a) => classifyAddress(a) ?? "reserved");
  return { cls: order.find((c) => classes.includes(c)) ?? "reserved", addresses };
}

/** The class of a URL's host (see resolveTarget). */
export async function hostClass(url: URL, resolve: Resolver, proxy: ProxyMode = "none"): Promise<AddressClass> {
  return (await resolveTarget(url, resolve, proxy)).cls;
}

/**
 * Decides whether discovery may contact `target` for the server at `configured`; throws
 * UNSAFE_URL otherwise. Returns the addresses the decision was made on (null for a literal or
 * `localhost`): the caller connects to one of those, not to whatever a second lookup returns.
 */
export async function checkDiscoveryTarget(target: URL, configured: URL, resolve: Resolver, what: string, proxy: ProxyMode = "none"): Promise<string[] | null> {
  const { cls, addresses } = await resolveTarget(target, resolve, proxy);
  const own = await hostClass(configured, resolve, proxy);
  if (mayContact(cls, own)) return addresses;
  const why = cls === "link-local" || cls === "reserved" ? `it points to a ${cls} address (such as a cloud metadata endpoint)` : `it points to a ${cls} address while the server ${configured.origin} is public`;
  throw new BrokerError("UNSAFE_URL", `Refusing the ${what}: ${why}. The server's OAuth metadata may be hostile; check UPSTREAM_MCP_URL and the server's configuration.`);
}
