// RFC 9728 protected resource metadata and the Bearer challenge, against a real HTTP server
// on 127.0.0.1 (what was asked, in which order), plus the pure rules as tables.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { discoverProtectedResource, parseChallenge, resourceMatches } from "../../src/oauth/resource-metadata.ts";
import { parseSafeUrl } from "../../src/oauth/url-policy.ts";
import { codeOf } from "../support/broker-error.ts";

async function expectBrokerError(p: Promise<unknown>, code: string, re: RegExp) {
  const e = await codeOf(p);
  expect(e.code).toBe(code);
  expect(e.message).toMatch(re);
}

describe("parseChallenge (RFC 6750 §3, RFC 9728 §5.1)", () => {
  it("reads resource_metadata, scope and error, quoted or not", () => {
    expect(parseChallenge(`Bearer resource_metadata="https://a.example/.well-known/oauth-protected-resource/mcp", scope="mcp:basic mcp:write", error="insufficient_scope"`)).toEqual({
      resourceMetadata: "https://a.example/.well-known/oauth-protected-resource/mcp",
      scope: ["mcp:basic", "mcp:write"],
      error: "insufficient_scope",
    });
    expect(parseChallenge(`Bearer error=invalid_token, scope=read`)).toEqual({ scope: ["read"], error: "invalid_token" });
    expect(parseChallenge(`Bearer realm="x\\"y", scope="a"`)).toEqual({ scope: ["a"] });
    expect(parseChallenge("Bearer")).toEqual({});
    expect(parseChallenge(null)).toEqual({});
  });
  it("does not take a parameter whose name only ends the same way", () => {
    expect(parseChallenge(`Bearer xscope="admin", not_resource_metadata="https://evil.example/"`)).toEqual({});
  });
});

describe("resourceMatches (RFC 9728 §3.3)", () => {
  const server = new URL("https://mcp.example.com/tenant/mcp");
  const table: [string, boolean][] = [
    ["https://mcp.example.com/tenant/mcp", true],
    ["https://mcp.example.com/tenant/mcp/", true],
    ["https://mcp.example.com/tenant", true],
    ["https://mcp.example.com", true],
    ["https://mcp.example.com/", true],
    ["https://mcp.example.com/ten", false],
    ["https://mcp.example.com/tenant/mcp2", false],
    ["https://mcp.example.com/other", false],
    ["https://evil.example.com/tenant/mcp", false],
    ["http://mcp.example.com/tenant/mcp", false],
    ["https://mcp.example.com:8443/tenant/mcp", false],
    ["https://mcp.example.com/tenant/mcp?x=1", false],
    ["https://mcp.example.com/tenant/mcp#f", false],
    ["not a url", false],
  ];
  for (const [declared, ok] of table) it(`${declared} → ${ok}`, () => expect(resourceMatches(declared, server)).toBe(ok));
});

describe("discoverProtectedResource against a server", () => {
  let server: ReturnType<typeof Bun.serve>;
  const seen: string[] = [];
  let docs: Record<string, () => Response> = {};
  beforeAll(() => {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const path = new URL(req.url).pathname;
        seen.push(path);
        return docs[path]?.() ?? new Response("not found", { status: 404 });
      },
    });
  });
  afterAll(() => server.stop(true));
  const origin = () => `http://127.0.0.1:${server.port}`;
  const json = (body: unknown) => () => Response.json(body);

  it("asks the challenge's URL first, then the path-inserted, then the root document", async () => {
    seen.length = 0;
    docs = {};
    expect(await discoverProtectedResource(parseSafeUrl(`${origin()}/mcp`, "server"), fetch, { metadataUrl: `${origin()}/custom/meta.json` })).toBeNull();
    expect(seen).toEqual(["/custom/meta.json", "/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]);
  });

  it("takes the root document naming the origin (metadata-var2's layout) and keeps its resource for RFC 8707", async () => {
    docs = { "/.well-known/oauth-protected-resource": json({ resource: origin(), authorization_servers: ["https://as.example"], scopes_supported: ["a"] }) };
    const found = await discoverProtectedResource(parseSafeUrl(`${origin()}/mcp`, "server"), fetch);
    expect(found).toEqual({ resource: origin(), authorizationServers: ["https://as.example"], scopesSupported: ["a"] });
  });

  it("refuses metadata naming another resource: a login for this server never goes to its authorization server", async () => {
    docs = { "/.well-known/oauth-protected-resource/mcp": json({ resource: "https://evil.example.com/mcp", authorization_servers: ["https://evil.example.com"] }) };
    await expectBrokerError(discoverProtectedResource(parseSafeUrl(`${origin()}/mcp`, "server"), fetch), "OAUTH_INVALID_RESPONSE", /names another resource/);
  });

  it("stops reading an endless document at the cap instead of hanging", async () => {
    docs = {
      "/.well-known/oauth-protected-resource/mcp": () =>
        new Response(
          new ReadableStream({
            pull(c) {
              c.enqueue(new TextEncoder().encode(" ".repeat(64 * 1024)));
            },
          }),
          { headers: { "content-type": "application/json" } },
        ),
    };
    await expectBrokerError(discoverProtectedResource(parseSafeUrl(`${origin()}/mcp`, "server"), fetch), "OAUTH_INVALID_RESPONSE", /larger than 256 KiB/);
  });
});
