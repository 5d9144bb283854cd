// One port parser for every flag and variable that names a port: same values, same refusal.
import { describe, expect, it } from "bun:test";
import { BrokerError } from "../../src/errors.ts";
import { isPort, optionalPort, parsePort } from "../../src/net/port.ts";

function refusal(raw: string, name: string): BrokerError {
  try {
    parsePort(raw, name);
  } catch (e) {
    expect(e).toBeInstanceOf(BrokerError);
    return e as BrokerError;
  }
  throw new Error(`${name}=${raw} was accepted`);
}

describe("parsePort", () => {
  it.each([["1", 1], ["80", 80], ["5177", 5177], ["65535", 65535], [" 8080 ", 8080], ["09876", 9876]])("accepts %p", (raw, n) => {
    expect(parsePort(raw, "PORT")).toBe(n as never);
    expect(isPort(n)).toBe(true);
  });

  it.each(["0", "65536", "-1", "1.5", "1e3", "0x50", "80abc", "", "http", "99999999"])("refuses %p, naming the flag or variable", (raw) => {
    expect(refusal(raw, "--port").message).toBe(`--port must be a TCP port number from 1 to 65535 (got ${JSON.stringify(raw)}).`);
    expect(refusal(raw, "PORT").message).toStartWith("PORT must be a TCP port number from 1 to 65535");
  });

  it("a flag is INVALID_INPUT, a variable CONFIG_INVALID; the echo is bounded", () => {
    expect(refusal("x", "--port").code).toBe("INVALID_INPUT");
    expect(refusal("x", "MCB_CALLBACK_PORT").code).toBe("CONFIG_INVALID");
    expect(refusal("9".repeat(500), "PORT").message.length).toBeLessThan(120);
  });

  it("optionalPort: unset or empty is undefined, anything else is parsed", () => {
    expect(optionalPort(undefined, "PORT")).toBeUndefined();
    expect(optionalPort("  ", "PORT")).toBeUndefined();
    expect(optionalPort("443", "PORT")).toBe(443 as never);
    expect(() => optionalPort("0", "PORT")).toThrow(/PORT must be a TCP port/);
  });
});
