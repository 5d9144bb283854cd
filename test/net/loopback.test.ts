// One loopback check: the address forms a socket reports or a user writes for BIND.
import { describe, expect, it } from "bun:test";
import { isLoopbackAddress, loopbackHosts } from "../../src/net/loopback.ts";
import { isLoopbackBind } from "../../src/remote/proxy-config.ts";

describe("isLoopbackAddress", () => {
  const table: [string, boolean][] = [
    ["127.0.0.1", true],
    ["127.255.0.9", true],
    ["::1", true],
    ["[::1]", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::ffff:127.0.0.1", true],
    ["::ffff:7f00:1", true],
    ["::1%lo", true],
    ["0.0.0.0", false],
    ["0.1.2.3", false],
    ["::", false],
    ["[::]", false],
    ["::ffff:10.0.0.1", false],
    ["10.0.0.1", false],
    ["fe80::1", false],
    ["localhost", false],
    ["127.0.0.256", false],
  ];
  for (const [a, want] of table) it(`${a} → ${want}`, () => expect(isLoopbackAddress(a)).toBe(want));

  it("a BIND of localhost or any loopback address stays on this machine; the unspecified ones do not", () => {
    for (const a of ["localhost", "127.0.0.1", "::1", "[::1]", "127.0.0.2"]) expect(isLoopbackBind(a)).toBe(true);
    for (const a of ["0.0.0.0", "::", "[::]", "192.168.1.10", "example.com"]) expect(isLoopbackBind(a)).toBe(false);
  });

  it("loopbackHosts: the Host values a browser sends to a loopback listener", () => {
    expect([...loopbackHosts(5177)]).toEqual(["127.0.0.1:5177", "localhost:5177", "[::1]:5177"]);
  });
});
