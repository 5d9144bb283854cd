// The URL policy as a table: what may be opened in a browser or fetched
// (docs/security.md §Outbound URLs).
import { describe, expect, it } from "bun:test";
import { isLoopbackHostname, isLoopbackUrl } from "../../src/net/loopback.ts";
import { onOrigin, parseSafeUrl, safeHref } from "../../src/oauth/url-policy.ts";
import { serverMetadata } from "../../src/oauth/discovery.ts";
import { requestOptions } from "../../src/oauth/http.ts";
import { NO_QUIRKS } from "../../src/oauth/providers.ts";
import * as oauth from "oauth4webapi";
import { isBrokerError } from "../../src/errors.ts";

const allowed: [string, string][] = [
  ["https://github.com/login/oauth/authorize?client_id=x&scope=repo", "https://github.com/login/oauth/authorize?client_id=x&scope=repo"],
  ["HTTPS://Example.COM/a", "https://example.com/a"],
  ["http://127.0.0.1:9876/oauth/callback", "http://127.0.0.1:9876/oauth/callback"],
  ["http://localhost:8080/authorize", "http://localhost:8080/authorize"],
  ["http://[::1]:8080/authorize", "http://[::1]:8080/authorize"],
  ["http://127.1.2.3/x", "http://127.1.2.3/x"],
  // WHATWG turns decimal / hex IPv4 into dotted quads before the loopback check.
  ["http://2130706433/x", "http://127.0.0.1/x"],
  ["http://0x7f000001/x", "http://127.0.0.1/x"],
  // Shell metacharacters are harmless without a shell: kept, passed as one argv element.
  ["https://127.0.0.1:9/auth?q=$(touch%20/tmp/pwned)&r=`id`;x|y", "https://127.0.0.1:9/auth?q=$(touch%20/tmp/pwned)&r=`id`;x|y"],
  ["https://idp.example/auth?x=%22%27", "https://idp.example/auth?x=%22%27"],
];

const refused: [string, string][] = [
  ["file:///etc/passwd", "scheme"],
  ["FILE:///etc/passwd", "scheme"],
  ["javascript:alert(1)", "scheme"],
  ["JaVaScRiPt:alert(document.cookie)", "scheme"],
  ["data:text/html,<script>alert(1)</script>", "whitespace|scheme"],
  ["smb://attacker/share", "scheme"],
  ["vbscript:msgbox(1)", "scheme"],
  ["ms-msdt:/id PCWDiagnostic", "whitespace"],
  ["http://example.com/authorize", "loopback"],
  ["http://10.0.0.1/authorize", "loopback"],
  ["http://169.254.169.254/latest", "loopback"],
  ["http://[fd00::1]/x", "loopback"],
  ["http://localhost.evil.example/x", "loopback"],
  ["http://127.0.0.1.nip.io/x", "loopback"],
  [" https://example.com/", "whitespace"],
  ["https://example.com/\n", "whitespace"],
  ["https://exa\tmple.com/", "whitespace"],
  ["java\nscript:alert(1)", "whitespace"],
  ["https://example.com/a b", "whitespace"],
  ["https://example.com/\u0000", "whitespace"],
  ["https:\\\\evil.example\\x", "backslash"],
  ["https://user:pass@example.com/", "user name"],
  ["https://example.com@evil.example/", "user name"],
  ["$(calc)", "valid absolute URL"],
  ["`calc`", "valid absolute URL"],
  ["&calc", "valid absolute URL"],
  ["|calc", "valid absolute URL"],
  ["'https://example.com/'", "valid absolute URL"],
  ["\"https://example.com/\"", "valid absolute URL"],
  ["/relative/path", "valid absolute URL"],
  ["", "empty"],
  [`https://example.com/${"a".repeat(9000)}`, "longer"],
];

describe("parseSafeUrl", () => {
  for (const [raw, href] of allowed) {
    it(`allows ${JSON.stringify(raw.slice(0, 60))} as ${href.slice(0, 60)}`, () => {
      expect(safeHref(raw, "authorization endpoint")).toBe(href);
    });
  }
  for (const [raw, why] of refused) {
    it(`refuses ${JSON.stringify(raw.slice(0, 60))} (${why})`, () => {
      let err: unknown;
      try {
        parseSafeUrl(raw, "authorization endpoint");
      } catch (e) {
        err = e;
      }
      expect(isBrokerError(err, "UNSAFE_URL")).toBe(true);
      const msg = (err as Error).message;
      expect(msg).toMatch(new RegExp(why));
      expect(msg).toContain("authorization endpoint");
      // The (possibly hostile) URL itself is never echoed.
      if (raw.length > 12) expect(msg).not.toContain(raw);
    });
  }
  it("refuses non-strings", () => {
    for (const v of [undefined, null, 42, {}, ["https://x.example/"]]) expect(() => parseSafeUrl(v, "url")).toThrow(/empty/);
  });
});

describe("isLoopbackHostname", () => {
  const table: [string, boolean][] = [
    ["127.0.0.1", true],
    ["127.255.255.254", true],
    ["localhost", true],
    ["[::1]", true],
    ["128.0.0.1", false],
    ["127.0.0.256", false],
    ["0.0.0.0", false],
    ["[::ffff:127.0.0.1]", false],
    ["localhost.", false],
    ["example.com", false],
  ];
  for (const [h, want] of table) it(`${h} → ${want}`, () => expect(isLoopbackHostname(h)).toBe(want));
  it("isLoopbackUrl needs http(s) and a loopback host", () => {
    expect(isLoopbackUrl(new URL("http://127.0.0.1:1/x"))).toBe(true);
    expect(isLoopbackUrl(new URL("https://localhost/x"))).toBe(true);
    expect(isLoopbackUrl(new URL("ftp://127.0.0.1/x"))).toBe(false);
    expect(isLoopbackUrl(new URL("https://example.com/x"))).toBe(false);
  });
});

describe("checked once: SafeUrl", () => {
  const base = parseSafeUrl("https://mcp.example.com/tenant/mcp", "server");

  it("onOrigin keeps a path on the checked origin and refuses one that leaves it", () => {
    expect(onOrigin(base, "/.well-known/oauth-protected-resource/tenant/mcp", "x").href).toBe("https://mcp.example.com/.well-known/oauth-protected-resource/tenant/mcp");
    for (const away of ["//evil.example/x", "https://evil.example/x", "http://mcp.example.com/x", "https://u:p@mcp.example.com/x"]) {
      expect(() => onOrigin(base, away, "PROBE_PATH")).toThrow(/Refusing the PROBE_PATH: it leaves the server's origin/);
    }
  });

  it("serverMetadata checks every endpoint the metadata names, once, naming the one refused", () => {
    const meta = serverMetadata({ issuer: "https://as.example", authorization_endpoint: "https://as.example/authorize", token_endpoint: "https://as.example/token", registration_endpoint: "https://as.example/register" }, true);
    expect(Object.keys(meta.endpoints).sort()).toEqual(["authorization_endpoint", "registration_endpoint", "token_endpoint"]);
    expect(Object.isFrozen(meta.endpoints)).toBe(true);
    expect(() => serverMetadata({ issuer: "https://as.example", token_endpoint: "http://as.example/token" }, true)).toThrow(/Refusing the token endpoint: http: is allowed only for loopback/);
    expect(() => serverMetadata({ issuer: "https://as.example", registration_endpoint: "javascript:alert(1)" }, true)).toThrow(/Refusing the registration endpoint/);
  });

  it("a request's options refuse a hop off the checked endpoint's origin before it is contacted", async () => {
    const asked: string[] = [];
    const opts = requestOptions(async (u) => (asked.push(String(u)), new Response("{}")), NO_QUIRKS, parseSafeUrl("https://as.example/token", "token endpoint"));
    const custom = opts[oauth.customFetch] as unknown as (u: string, init: RequestInit) => Promise<Response>;
    await custom("https://as.example/token", { method: "POST" });
    await custom("https://as.example/.well-known/oauth-authorization-server", { method: "GET" });
    await expect(custom("https://169.254.169.254/latest", { method: "GET" })).rejects.toThrow(/leaves the server's origin/);
    expect(asked).toEqual(["https://as.example/token", "https://as.example/.well-known/oauth-authorization-server"]);
  });
});
