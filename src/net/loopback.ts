// The one answer to "is this this machine?": for a URL's host (where http: is allowed), for a
// socket's peer or bind address (who may call back, where the proxy listens), and the Host
// header values a loopback listener answers to.
import { parseIPv4, parseIPv6 } from "./ip.ts";

/** The address every loopback listener binds and every redirect URI names by default (RFC 8252 §7.3). */
export const LOOPBACK_IPV4 = "127.0.0.1";

/**
 * True for a WHATWG-parsed URL hostname that names this machine: 127.0.0.0/8 (RFC 1122
 * §3.2.1.3), `[::1]` (RFC 4291 §2.5.3) and `localhost` (RFC 6761 §6.3) — the loopback forms
 * RFC 8252 §7.3/§8.3 allow http: for. The parser has already turned decimal and hex IPv4 forms
 * into dotted quads; IPv4-mapped forms and `*.localhost` are not taken for a URL.
 */
export function isLoopbackHostname(hostname: string): boolean {
  if (hostname === "localhost" || hostname === "[::1]") return true;
  return parseIPv4(hostname)?.[0] === 127;
}

/** True when `url` is http: or https: on a loopback host (the only case where http: is allowed). */
export function isLoopbackUrl(url: URL): boolean {
  return (url.protocol === "http:" || url.protocol === "https:") && isLoopbackHostname(url.hostname);
}

/**
 * True for an IP address on this machine as a socket reports it or a user writes it for a bind:
 * 127.0.0.0/8, ::1 in any spelling (bracketed or not), and IPv4-mapped loopback
 * (::ffff:127.x.y.z, RFC 4291 §2.5.5.2: what a dual-stack socket reports for an IPv4 peer).
 * The unspecified addresses (0.0.0.0, ::) are not loopback: bound, they listen everywhere.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const v4 = parseIPv4(bare);
  if (v4) return v4[0] === 127;
  const g = parseIPv6(bare);
  if (!g) return false;
  const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  return (zeroTo(7) && g[7] === 1) || (zeroTo(5) && g[5] === 0xffff && g[6]! >> 8 === 127);
}

/** The Host header values a browser sends to a loopback listener on `port` (RFC 9110 §7.2). */
export function loopbackHosts(port: number): Set<string> {
  return new Set([`${LOOPBACK_IPV4}:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}
