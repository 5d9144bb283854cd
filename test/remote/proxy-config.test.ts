// REDIRECT_PATH that no callback could ever match is refused when the proxy starts, naming why.
import { describe, expect, it } from "bun:test";
import { checkRedirectPath, proxyConfig } from "../../src/remote/proxy-config.ts";
import { BrokerError } from "../../src/errors.ts";

function refusal(path: string): BrokerError {
  try {
    proxyConfig({ REDIRECT_PATH: path });
  } catch (e) {
    expect(e).toBeInstanceOf(BrokerError);
    expect((e as BrokerError).code).toBe("CONFIG_INVALID");
    return e as BrokerError;
  }
  throw new Error(`REDIRECT_PATH=${path} was accepted`);
}

describe("REDIRECT_PATH", () => {
  it("accepts ordinary paths, with or without a trailing slash", () => {
    for (const p of ["/oauth/callback", "/cb", "/a.b/c-d_e~f", "/callback/", "/.well-known-ish/cb"]) expect(proxyConfig({ REDIRECT_PATH: p }).redirectPath).toBe(p);
  });

  it.each(["/../x", "/./cb", "/oauth/../cb", "/oauth/.", "/oauth/.."])("refuses %s: a browser removes dot segments, so the callback could never match", (p) => {
    expect(refusal(p).message).toMatch(/'\.' or '\.\.' segment.*never match.*\/oauth\/callback/);
    // What a request for the redirect URI arrives as: never the configured path.
    expect(new URL(`http://127.0.0.1:5177${p}`).pathname).not.toBe(p);
  });

  it.each(["//cb", "/oauth//cb", "//"])("refuses %s: an empty segment", (p) => {
    expect(refusal(p).message).toMatch(/empty segment/);
  });

  it.each(["/mcp", "/mcp/cb", "/mcpcb"])("refuses %s under /mcp (forwarded upstream)", (p) => {
    expect(refusal(p).message).toMatch(/not be under \/mcp/);
  });

  it.each(["/", "/health", "/oauth/status", "/oauth/login", "/oauth/logout"])("refuses %s, one of the proxy's own endpoints", (p) => {
    expect(refusal(p).message).toMatch(/own endpoints/);
  });

  it("refuses anything that is not a plain path, quoting it safely", () => {
    expect(refusal("https://evil.example/cb").message).toMatch(/must start with \//);
    expect(refusal("/cb?x=1").message).toContain('"/cb?x=1"');
    expect(() => checkRedirectPath("/cb%2e%2e")).toThrow(/must start with/);
  });
});
