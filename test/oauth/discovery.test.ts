// Authorization server metadata discovery in the MCP authorization spec's order, against a
// real HTTP server on 127.0.0.1 recording what it was asked: RFC 8414 path insertion, OIDC
// path insertion, OIDC path appending; never the root document for an issuer with a path.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { findIssuerMetadata, MCP_METADATA_ORDER } from "../../src/oauth/discovery.ts";
import { parseSafeUrl } from "../../src/oauth/url-policy.ts";
import { codeOf } from "../support/broker-error.ts";

let server: ReturnType<typeof Bun.serve>;
const seen: string[] = [];
let docs: Record<string, (origin: string) => unknown> = {};
beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const u = new URL(req.url);
      seen.push(u.pathname);
      const doc = docs[u.pathname];
      return doc ? Response.json(doc(u.origin)) : new Response("not found", { status: 404 });
    },
  });
});
afterAll(() => server.stop(true));
const origin = () => `http://127.0.0.1:${server.port}`;
const meta = (issuer: string) => ({ issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, response_types_supported: ["code"] });

describe("findIssuerMetadata", () => {
  it("an issuer with a path: RFC 8414 inserted, OIDC inserted, OIDC appended — and never the origin's root document", async () => {
    seen.length = 0;
    docs = { "/tenant1/.well-known/openid-configuration": (o) => meta(`${o}/tenant1`) };
    const as = await findIssuerMetadata(parseSafeUrl(`${origin()}/tenant1`, "issuer"), fetch, MCP_METADATA_ORDER);
    expect(as?.issuer).toBe(`${origin()}/tenant1`);
    expect(seen).toEqual(["/.well-known/oauth-authorization-server/tenant1", "/.well-known/openid-configuration/tenant1", "/tenant1/.well-known/openid-configuration"]);
  });

  it("an issuer without a path asks each document once and stops at the first", async () => {
    seen.length = 0;
    docs = { "/.well-known/openid-configuration": (o) => meta(o) };
    expect((await findIssuerMetadata(parseSafeUrl(origin(), "issuer"), fetch, MCP_METADATA_ORDER))?.issuer).toBe(origin());
    expect(seen).toEqual(["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]);
  });

  it("no document anywhere: null, so the caller may fall back (MCP 2025-03-26 default endpoints)", async () => {
    docs = {};
    expect(await findIssuerMetadata(parseSafeUrl(origin(), "issuer"), fetch, ["oauth2", "oidc"])).toBeNull();
  });

  it("a document naming another issuer is the error reported, even when a later location answers 404 (RFC 8414 §3.3)", async () => {
    docs = { "/.well-known/oauth-authorization-server": (o) => meta(`${o}/oauth`) };
    const e = await codeOf(findIssuerMetadata(parseSafeUrl(origin(), "issuer"), fetch, ["oauth2", "oidc"]));
    expect(e.code).toBe("OAUTH_INVALID_RESPONSE");
    expect(e.message).toContain("RFC 8414 §3.3");
  });
});
