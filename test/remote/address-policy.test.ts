// The SSRF decision for discovery targets, as a table: every case is decided before any
// connection (the resolver is a map; nothing here sends a packet).
import { describe, expect, it } from "bun:test";
import { checkDiscoveryTarget, classifyAddress, hostClass, mayContact, type AddressClass } from "../../src/remote/address-policy.ts";

/** Hostnames as the WHATWG URL parser hands them to the policy. */
const host = (raw: string) => new URL(raw).hostname;

describe("classifyAddress", () => {
  const table: [string, AddressClass][] = [
    ["http://169.254.169.254/latest/meta-data", "link-local"],
    ["http://169.254.0.1/", "link-local"],
    ["http://10.0.0.1/", "private"],
    ["http://172.16.0.1/", "private"],
    ["http://172.32.0.1/", "public"],
    ["http://192.168.1.1/", "private"],
    ["http://100.64.0.1/", "private"],
    ["http://127.0.0.1/", "loopback"],
    ["http://127.8.9.10/", "loopback"],
    ["http://0.0.0.0/", "loopback"],
    ["http://8.8.8.8/", "public"],
    ["http://224.0.0.1/", "reserved"],
    ["http://255.255.255.255/", "reserved"],
    // Decimal, hex and octal IPv4 forms (the URL parser normalises them to dotted quads).
    ["http://2852039166/", "link-local"], // 169.254.169.254
    ["http://0xa9fea9fe/", "link-local"],
    ["http://0xA9.0xFE.0xA9.0xFE/", "link-local"],
    ["http://2130706433/", "loopback"],
    ["http://0x7f.1/", "loopback"],
    ["http://012.0.0.1/", "private"], // octal 10.0.0.1
    ["http://167772161/", "private"], // 10.0.0.1
    ["http://[::1]/", "loopback"],
    ["http://[::]/", "reserved"],
    ["http://[fd00::1]/", "private"],
    ["http://[fc00::1]/", "private"],
    ["http://[fe80::1]/", "link-local"],
    ["http://[febf::1]/", "link-local"],
    ["http://[ff02::1]/", "reserved"],
    ["http://[::ffff:127.0.0.1]/", "loopback"],
    ["http://[::ffff:169.254.169.254]/", "link-local"],
    ["http://[::ffff:10.0.0.1]/", "private"],
    ["http://[64:ff9b::a9fe:a9fe]/", "link-local"],
    ["http://[2606:4700::1111]/", "public"],
  ];
  for (const [url, cls] of table) {
    it(`${url} → ${cls}`, () => expect(classifyAddress(host(url))).toBe(cls));
  }
  it("names are not literals", () => {
    expect(classifyAddress("example.com")).toBeNull();
  });
});

describe("mayContact", () => {
  const table: [AddressClass, AddressClass, boolean][] = [
    ["link-local", "public", false],
    ["link-local", "loopback", false],
    ["link-local", "private", false],
    ["reserved", "loopback", false],
    ["private", "public", false],
    ["loopback", "public", false],
    ["private", "private", true],
    ["loopback", "loopback", true],
    ["private", "loopback", true],
    ["public", "public", true],
    ["public", "loopback", true],
  ];
  for (const [target, configured, ok] of table) {
    it(`${target} target for a ${configured} server → ${ok ? "allowed" : "refused"}`, () => expect(mayContact(target, configured)).toBe(ok));
  }
});

describe("checkDiscoveryTarget", () => {
  const dns: Record<string, string[]> = {
    "mcp.example.com": ["93.184.215.14"],
    "auth.example.com": ["93.184.215.15"],
    "rebind.example.com": ["93.184.215.16", "169.254.169.254"],
    "internal.example.com": ["10.1.2.3"],
    "corp.example": ["10.0.0.5"],
  };
  const resolved: string[] = [];
  const resolve = async (name: string) => {
    resolved.push(name);
    const a = dns[name];
    if (!a) throw new Error("NXDOMAIN");
    return a;
  };
  const check = (target: string, server: string) => checkDiscoveryTarget(new URL(target), new URL(server), resolve, "authorization server");
  const cases: [string, string, boolean][] = [
    ["https://auth.example.com/", "https://mcp.example.com/mcp", true],
    ["http://169.254.169.254/", "https://mcp.example.com/mcp", false],
    ["http://169.254.169.254/", "http://127.0.0.1:8080/mcp", false],
    ["http://[fe80::1]/", "http://127.0.0.1:8080/mcp", false],
    ["https://10.0.0.1/", "https://mcp.example.com/mcp", false],
    ["https://[fd00::1]/", "https://mcp.example.com/mcp", false],
    ["http://127.0.0.1:9/", "https://mcp.example.com/mcp", false],
    ["http://[::ffff:127.0.0.1]/", "https://mcp.example.com/mcp", false],
    ["http://2130706433/", "https://mcp.example.com/mcp", false],
    ["http://localhost/", "https://mcp.example.com/mcp", false],
    ["https://internal.example.com/", "https://mcp.example.com/mcp", false],
    ["https://rebind.example.com/", "https://mcp.example.com/mcp", false],
    ["http://127.0.0.1:9/", "http://127.0.0.1:8080/mcp", true],
    ["https://10.0.0.1/", "https://corp.example/mcp", true],
    ["https://auth.example.com/", "http://[::1]:8080/mcp", true],
  ];
  for (const [target, server, ok] of cases) {
    it(`${target} for ${server} → ${ok ? "allowed" : "refused"}`, async () => {
      if (ok) await check(target, server);
      else await expect(check(target, server)).rejects.toMatchObject({ code: "UNSAFE_URL" });
    });
  }
  it("a name resolving to several addresses takes the most restrictive class", async () => {
    expect(await hostClass(new URL("https://rebind.example.com/"), resolve)).toBe("link-local");
  });
  it("a name that does not resolve is refused before any connection, as REMOTE_UNREACHABLE naming it", async () => {
    const nx = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.example"), { code: "ENOTFOUND" });
    };
    const err = await checkDiscoveryTarget(new URL("https://nowhere.example/"), new URL("https://mcp.example.com/mcp"), nx, "authorization server").then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: "REMOTE_UNREACHABLE" });
    expect((err as Error).message).toStartWith("Cannot resolve nowhere.example (ENOTFOUND).");
  });
  it("literals are never resolved", async () => {
    resolved.length = 0;
    await check("http://127.0.0.1:9/", "http://127.0.0.1:8080/mcp");
    expect(resolved).toEqual([]);
  });
});
