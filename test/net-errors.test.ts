import { describe, expect, it } from "bun:test";
import { fetchFailureMessage } from "../src/net-errors.ts";

const withCode = (code: string, ctor: ErrorConstructor = TypeError) => Object.assign(new ctor("boom: value=s3cr3t"), { code });

describe("fetchFailureMessage", () => {
  it.each(["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "CERT_HAS_EXPIRED", "ERR_TLS_CERT_ALTNAME_INVALID"])(
    "an untrusted certificate (%s) names the origin, the code and NODE_EXTRA_CA_CERTS",
    (code) => {
      const m = fetchFailureMessage(withCode(code), "https://mcp.example");
      expect(m).toContain("https://mcp.example");
      expect(m).toContain(code);
      expect(m).toContain("NODE_EXTRA_CA_CERTS");
    },
  );

  it.each(["ECONNREFUSED", "ENOTFOUND", "ECONNRESET", "ConnectionRefused"])("an unreachable server (%s) names the code and HTTPS_PROXY / NO_PROXY", (code) => {
    const m = fetchFailureMessage(withCode(code, Error), "http://127.0.0.1:9");
    expect(m).toMatch(/^Could not reach http:\/\/127\.0\.0\.1:9/);
    expect(m).toContain(code);
    expect(m).toContain("HTTPS_PROXY");
  });

  it("a timeout says so", () => {
    expect(fetchFailureMessage(Object.assign(new Error("t"), { name: "TimeoutError" }), "https://a.example")).toContain("did not answer in time");
  });

  it("never repeats the error's own message, nor a code that is not a plain identifier", () => {
    expect(fetchFailureMessage(withCode("ECONNREFUSED"), "https://a.example")).not.toContain("s3cr3t");
    const odd = fetchFailureMessage(withCode("x y <script>"), "https://a.example")!;
    expect(odd).not.toContain("<script>");
    expect(odd).toMatch(/^Could not reach https:\/\/a\.example\. /);
  });

  it("leaves errors that are not network failures to the caller", () => {
    expect(fetchFailureMessage(new Error("parse"), "https://a.example")).toBeNull();
    expect(fetchFailureMessage("string", "https://a.example")).toBeNull();
  });
});
