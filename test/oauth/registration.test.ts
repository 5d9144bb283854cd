// RFC 7591 registration against a real HTTP server on 127.0.0.1 answering as real servers do.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { serverMetadata } from "../../src/oauth/discovery.ts";
import { registerClient } from "../../src/oauth/registration.ts";

let server: ReturnType<typeof Bun.serve>;
let answer: Record<string, unknown> = {};
const bodies: Record<string, unknown>[] = [];
beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      bodies.push((await req.json()) as Record<string, unknown>);
      return Response.json(answer, { status: 201 });
    },
  });
});
afterAll(() => server.stop(true));
const as = () => serverMetadata({ issuer: `http://127.0.0.1:${server.port}`, registration_endpoint: `http://127.0.0.1:${server.port}/register` }, true);
const redirectUri = "http://127.0.0.1:9876/oauth/callback";

describe("registerClient", () => {
  it("accepts a secret without client_secret_expires_at (what the MCP SDK's and many servers send) and uses RFC 7591's default method", async () => {
    answer = { client_id: "c1", client_secret: "s1", redirect_uris: [redirectUri] };
    const reg = await registerClient(as(), fetch, { redirectUri, clientName: "t" });
    expect(reg).toMatchObject({ clientId: "c1", clientSecret: "s1", authMethod: "client_secret_basic", redirectUris: [redirectUri] });
  });
  it("keeps the method the server names, and a public client stays public", async () => {
    answer = { client_id: "c2", client_secret: "s2", client_secret_expires_at: 0, token_endpoint_auth_method: "client_secret_post" };
    expect((await registerClient(as(), fetch, { redirectUri, clientName: "t" })).authMethod).toBe("client_secret_post");
    answer = { client_id: "c3", token_endpoint_auth_method: "none" };
    expect(await registerClient(as(), fetch, { redirectUri, clientName: "t" })).toMatchObject({ clientId: "c3", authMethod: "none" });
  });
  it("asks for a refresh-capable native client (SEP-2207: refresh_token in grant_types)", async () => {
    answer = { client_id: "c4" };
    await registerClient(as(), fetch, { redirectUri, clientName: "t" });
    expect(bodies.at(-1)).toMatchObject({ grant_types: ["authorization_code", "refresh_token"], redirect_uris: [redirectUri], token_endpoint_auth_method: "none" });
  });
});
