// The machine grants against real servers: oidc-provider for the client credentials grant with
// client_secret_basic, client_secret_post and private_key_jwt; local servers on 127.0.0.1 that
// check exactly what the MCP conformance suite's mocks check, for the forms oidc-provider
// tolerates (an undecoded Basic header) and for cross-app access, which it does not offer.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeJwt, decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair, jwtVerify, SignJWT, type CryptoKey as JoseKey } from "jose";
import type * as oauth from "oauth4webapi";
import Provider, { type ClientMetadata } from "oidc-provider";
import type { PrivateKeyAlg } from "../../src/oauth/client-auth.ts";
import type { FetchLike } from "../../src/oauth/http.ts";
import { clientCredentialsGrant, crossAppGrant, type IdentityProviderClient, type MachineClient } from "../../src/oauth/machine-grants.ts";
import { codeOf } from "../support/broker-error.ts";

/** A request as it left the broker. */
interface Sent {
  url: string;
  authorization: string | null;
  body: URLSearchParams;
}

/** A fetch that records every request (URL, Authorization, form body) before sending it. */
function recordingFetch(): { fetch: FetchLike; sent: Sent[] } {
  const sent: Sent[] = [];
  const f: FetchLike = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    sent.push({ url, authorization: new Headers(init?.headers).get("authorization"), body: new URLSearchParams(String(init?.body ?? "")) });
    return fetch(input, init);
  };
  return { fetch: f, sent };
}

/** Everything a failure could show: the message (the cause is never printed). */
function expectNoneOf(message: string, secrets: string[]): void {
  for (const s of secrets) expect(message).not.toContain(s);
}

// ---------------------------------------------------------------------------------------------
// oidc-provider: client_credentials with the three client authentication methods.

const RESOURCE_SCOPES = "mcp:read mcp:write";
const SIGNING_ALGS: PrivateKeyAlg[] = ["ES256", "RS256", "PS256", "EdDSA"];

interface CcProvider {
  issuer: string;
  as: oauth.AuthorizationServer;
  basic: { clientId: string; clientSecret: string };
  post: { clientId: string; clientSecret: string };
  jwt: Record<string, { clientId: string; pem: string }>;
  stop(): Promise<void>;
}

async function startCcProvider(): Promise<CcProvider> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tag = randomUUID().slice(0, 8);
  // Unreserved characters in the ids; ':' and '%' (with hex after it) in the secrets.
  const basic = { clientId: `svc-basic.${tag}_~1`, clientSecret: `s3:cr%41t-${randomUUID()}` };
  const post = { clientId: `svc-post.${tag}_~2`, clientSecret: `p0:st%25-${randomUUID()}` };
  const machine = { grant_types: ["client_credentials"], response_types: [], redirect_uris: [] };
  const clients: ClientMetadata[] = [
    { client_id: basic.clientId, client_secret: basic.clientSecret, token_endpoint_auth_method: "client_secret_basic", ...machine },
    { client_id: post.clientId, client_secret: post.clientSecret, token_endpoint_auth_method: "client_secret_post", ...machine },
  ];
  const jwt: CcProvider["jwt"] = {};
  for (const alg of SIGNING_ALGS) {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const clientId = `svc-jwt-${alg.toLowerCase()}.${tag}`;
    jwt[alg] = { clientId, pem: await exportPKCS8(privateKey) };
    clients.push({ client_id: clientId, token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [await exportJWK(publicKey)] }, ...machine });
  }
  const provider = new Provider(issuer, {
    clients,
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      // RFC 8707: a token for a resource is a JWT whose aud is that resource.
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => ({ scope: RESOURCE_SCOPES, audience: resource, accessTokenTTL: 600, accessTokenFormat: "jwt", jwt: { sign: { alg: "RS256" } } }),
      },
    },
    cookies: { keys: [randomUUID()] },
  });
  provider.on("server_error", () => {});
  server.on("request", provider.callback());
  const meta = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  return {
    issuer,
    as: meta as oauth.AuthorizationServer,
    basic,
    post,
    jwt,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe("client credentials grant at oidc-provider", () => {
  let op: CcProvider;
  beforeAll(async () => {
    op = await startCcProvider();
  });
  afterAll(async () => {
    await op.stop();
  });

  it("lists both secret methods, so the broker picks client_secret_basic (RFC 6749 §2.3.1) and sends scope and resource", async () => {
    expect(op.as.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(["client_secret_basic", "client_secret_post", "private_key_jwt"]));
    const { fetch, sent } = recordingFetch();
    const resource = `${op.issuer}/mcp`;
    const grant = await clientCredentialsGrant(op.as, fetch, op.basic, { scopes: ["mcp:read"], resource });
    expect(grant.authMethod).toBe("client_secret_basic");
    expect(grant.requestedScopes).toEqual(["mcp:read"]);
    expect(grant.tokens.token_type).toBe("bearer");
    // The JWT access token says the server saw the resource and the scope.
    const claims = decodeJwt(grant.tokens.access_token);
    expect([claims.aud, claims.scope, claims.client_id]).toEqual([resource, "mcp:read", op.basic.clientId]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url).toBe(op.as.token_endpoint!);
    expect(sent[0]!.authorization).toStartWith("Basic ");
    expect(sent[0]!.body.get("grant_type")).toBe("client_credentials");
    expect(sent[0]!.body.has("client_secret")).toBe(false);
  });

  it("uses client_secret_post when the server lists only that", async () => {
    const { fetch, sent } = recordingFetch();
    const grant = await clientCredentialsGrant({ ...op.as, token_endpoint_auth_methods_supported: ["client_secret_post"] }, fetch, op.post, { resource: `${op.issuer}/mcp`, scopes: ["mcp:write"] });
    expect(grant.authMethod).toBe("client_secret_post");
    expect(decodeJwt(grant.tokens.access_token).scope).toBe("mcp:write");
    expect([sent[0]!.authorization, sent[0]!.body.get("client_id"), sent[0]!.body.get("client_secret")]).toEqual([null, op.post.clientId, op.post.clientSecret]);
  });

  it("uses client_secret_basic when the server lists only that", async () => {
    const grant = await clientCredentialsGrant({ ...op.as, token_endpoint_auth_methods_supported: ["client_secret_basic"] }, recordingFetch().fetch, op.basic);
    expect(grant.authMethod).toBe("client_secret_basic");
    expect(grant.tokens.access_token.length).toBeGreaterThan(10);
  });

  it.each(SIGNING_ALGS)("authenticates with private_key_jwt, a PEM PKCS #8 %s key", async (alg) => {
    const { fetch, sent } = recordingFetch();
    const resource = `${op.issuer}/mcp`;
    const grant = await clientCredentialsGrant(op.as, fetch, { clientId: op.jwt[alg]!.clientId, privateKey: { pem: op.jwt[alg]!.pem, alg } }, { resource });
    expect(grant.authMethod).toBe("private_key_jwt");
    expect(decodeJwt(grant.tokens.access_token).aud).toBe(resource);
    const assertion = sent[0]!.body.get("client_assertion")!;
    expect(decodeProtectedHeader(assertion).alg).toBe(alg);
    expect(decodeJwt(assertion).aud).toBe(op.issuer);
    expect(sent[0]!.authorization).toBeNull();
  });

  it("a wrong secret is a BrokerError naming the grant and invalid_client, never the secret", async () => {
    const wrong = `wr:ng%-${randomUUID()}`;
    const { code, message } = await codeOf(clientCredentialsGrant(op.as, recordingFetch().fetch, { clientId: op.basic.clientId, clientSecret: wrong }));
    expect(code).toBe("OAUTH_ERROR");
    expect(message).toContain("client credentials grant");
    // oidc-provider answers a failed Basic authentication with a WWW-Authenticate challenge.
    expect(message).toMatch(/HTTP 401\). Check the client credentials/);
    expectNoneOf(message, [wrong, op.basic.clientSecret]);
  });

  it("a key the server does not know is refused as invalid_client, the key never shown", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const pem = await exportPKCS8(privateKey);
    const { code, message } = await codeOf(clientCredentialsGrant(op.as, recordingFetch().fetch, { clientId: op.jwt.ES256!.clientId, privateKey: { pem, alg: "ES256" } }));
    expect(code).toBe("OAUTH_ERROR");
    expect(message).toContain("invalid_client");
    expectNoneOf(message, pem.split("\n").filter((l) => l.length > 8 && !l.startsWith("-----")));
  });

  it("refuses to run without a secret or a key (RFC 6749 §4.4: confidential clients only), sending nothing", async () => {
    const { fetch, sent } = recordingFetch();
    expect((await codeOf(clientCredentialsGrant(op.as, fetch, { clientId: op.basic.clientId }))).code).toBe("CONFIG_INVALID");
    expect(sent).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Local servers with the conformance suite's checks.

interface Local {
  url: string;
  stop(): void;
}

function serve(handler: (req: Request, url: string) => Promise<Response>): Local {
  let base = "";
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req: Request): Promise<Response> => handler(req, base) });
  base = `http://127.0.0.1:${server.port}`;
  return { url: base, stop: () => void server.stop(true) };
}

const oauthError = (error: string, status = 400) => Response.json({ error, error_description: `mock says ${error}` }, { status });

describe("client credentials grant against the conformance suite's checks", () => {
  const CLIENT_ID = "conformance-test-client";
  const CLIENT_SECRET = "conformance-test-secret";
  let basicAs: Local;
  let jwtAs: Local;
  let jwtPublicKey: JoseKey;
  let jwtPem: string;
  const seen: string[] = [];

  beforeAll(async () => {
    // auth/client-credentials-basic: base64-decodes and splits on ':' without form-decoding.
    basicAs = serve(async (req) => {
      const form = new URLSearchParams(await req.text());
      if (form.get("grant_type") !== "client_credentials") return oauthError("unsupported_grant_type");
      const header = req.headers.get("authorization");
      if (!header?.startsWith("Basic ")) return oauthError("invalid_client", 401);
      const [id, secret] = Buffer.from(header.slice(6), "base64").toString("utf-8").split(":");
      if (id !== CLIENT_ID || secret !== CLIENT_SECRET) return oauthError("invalid_client", 401);
      return Response.json({ access_token: `cc-token-${Date.now()}`, token_type: "Bearer", expires_in: 3600, ...(form.get("scope") ? { scope: form.get("scope") } : {}) });
    });
    // auth/client-credentials-jwt: aud = issuer with or without a trailing slash, iss = sub = client id.
    const pair = await generateKeyPair("ES256", { extractable: true });
    jwtPublicKey = pair.publicKey;
    jwtPem = await exportPKCS8(pair.privateKey);
    jwtAs = serve(async (req, base) => {
      const form = new URLSearchParams(await req.text());
      if (form.get("grant_type") !== "client_credentials") return oauthError("unsupported_grant_type");
      if (form.get("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") return oauthError("invalid_client", 401);
      try {
        const withoutSlash = base.replace(/\/+$/, "");
        const { payload } = await jwtVerify(form.get("client_assertion") ?? "", jwtPublicKey, { audience: [withoutSlash, `${withoutSlash}/`], clockTolerance: 30 });
        if (payload.iss !== CLIENT_ID || payload.sub !== CLIENT_ID) return oauthError("invalid_client", 401);
      } catch (e) {
        seen.push((e as Error).message);
        return oauthError("invalid_client", 401);
      }
      return Response.json({ access_token: `cc-token-${Date.now()}`, token_type: "Bearer", expires_in: 3600 });
    });
  });
  afterAll(() => {
    basicAs.stop();
    jwtAs.stop();
  });

  it("auth/client-credentials-basic: the mock's undecoded split accepts our Basic header", async () => {
    const as = { issuer: basicAs.url, token_endpoint: `${basicAs.url}/token`, token_endpoint_auth_methods_supported: ["client_secret_basic"] };
    const grant = await clientCredentialsGrant(as, recordingFetch().fetch, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, { scopes: ["read", "write"] });
    expect(grant.tokens.access_token).toStartWith("cc-token-");
    expect(grant.tokens.scope).toBe("read write");
  });

  it.each(["", "/"])("auth/client-credentials-jwt: the assertion's aud is the issuer as published (issuer%p)", async (suffix) => {
    const as = { issuer: `${jwtAs.url}${suffix}`, token_endpoint: `${jwtAs.url}/token`, token_endpoint_auth_methods_supported: ["private_key_jwt"] };
    const grant = await clientCredentialsGrant(as, recordingFetch().fetch, { clientId: CLIENT_ID, privateKey: { pem: jwtPem, alg: "ES256" } });
    expect(grant.tokens.access_token).toStartWith("cc-token-");
    expect(seen).toEqual([]);
  });
});

describe("cross-app access (identity assertion grant)", () => {
  const AS_CLIENT_ID = "conformance-test-xaa-client";
  const AS_CLIENT_SECRET = `xaa:secret%-${randomUUID()}`;
  const IDP_CLIENT_ID = "conformance-test-idp-client";
  const IDP_CLIENT_SECRET = `idp-secret-${randomUUID()}`;
  const USER = "demo-user@example.com";
  const ID_JAG = "urn:ietf:params:oauth:token-type:id-jag";

  let idp: Local;
  let as: Local;
  let idpKeys: { publicKey: JoseKey; privateKey: JoseKey };
  let grantKey: { publicKey: JoseKey; privateKey: JoseKey };
  let resource: string;
  /** The IdP answers with this issued_token_type (tests change it). */
  let issuedTokenType = ID_JAG;
  const idpRequests: URLSearchParams[] = [];
  const asRequests: { form: URLSearchParams; authorization: string | null }[] = [];
  /** Why the mocks refused a request (empty when every check passed). */
  const failures: string[] = [];

  const idToken = (opts: { aud?: string; exp?: string } = {}) =>
    new SignJWT({ sub: USER, email: USER, aud: opts.aud ?? IDP_CLIENT_ID }).setProtectedHeader({ alg: "ES256" }).setIssuer(idp.url).setIssuedAt().setExpirationTime(opts.exp ?? "1h").sign(idpKeys.privateKey);

  beforeAll(async () => {
    idpKeys = await generateKeyPair("ES256");
    grantKey = await generateKeyPair("ES256");
    // The identity provider: RFC 8693 token exchange of an ID token for an ID-JAG (the
    // conformance suite's IdP checks, plus the client secret when the client has one).
    idp = serve(async (req, base) => {
      const form = new URLSearchParams(await req.text());
      idpRequests.push(form);
      if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:token-exchange") return oauthError("unsupported_grant_type");
      const missing = [
        !form.get("subject_token") && "subject_token",
        form.get("subject_token_type") !== "urn:ietf:params:oauth:token-type:id_token" && "subject_token_type",
        form.get("requested_token_type") !== ID_JAG && "requested_token_type",
        !form.get("audience") && "audience",
        !form.get("resource") && "resource",
      ].filter(Boolean);
      if (missing.length > 0) {
        failures.push(`idp: ${missing.join(", ")}`);
        return oauthError("invalid_request");
      }
      if (form.get("client_id") !== IDP_CLIENT_ID || (form.has("client_secret") && form.get("client_secret") !== IDP_CLIENT_SECRET)) return oauthError("invalid_client", 401);
      try {
        const { payload } = await jwtVerify(form.get("subject_token")!, idpKeys.publicKey, { audience: IDP_CLIENT_ID, issuer: base });
        const jag = await new SignJWT({ sub: payload.sub, resource: form.get("resource"), client_id: AS_CLIENT_ID, ...(form.get("scope") ? { scope: form.get("scope") } : {}) })
          .setProtectedHeader({ alg: "ES256", typ: "oauth-id-jag+jwt" })
          .setIssuer(base)
          .setAudience(form.get("audience")!)
          .setIssuedAt()
          .setExpirationTime("5m")
          .setJti(randomUUID())
          .sign(grantKey.privateKey);
        return Response.json({ access_token: jag, issued_token_type: issuedTokenType, token_type: "N_A" });
      } catch (e) {
        failures.push(`idp: ${(e as Error).message}`);
        // A hostile error_description that echoes what it was sent: it must never be shown.
        return Response.json({ error: "invalid_grant", error_description: `bad token ${form.get("subject_token")} ${form.get("client_secret")}` }, { status: 400 });
      }
    });
    // The MCP authorization server: RFC 7523 §2.1 JWT bearer grant with client_secret_basic,
    // decoded as the conformance suite's mock decodes it.
    as = serve(async (req, base) => {
      const form = new URLSearchParams(await req.text());
      const header = req.headers.get("authorization");
      asRequests.push({ form, authorization: header });
      if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") return oauthError("unsupported_grant_type");
      if (!header?.startsWith("Basic ")) return oauthError("invalid_client", 401);
      const decoded = Buffer.from(header.slice(6), "base64").toString("utf-8");
      const i = decoded.indexOf(":");
      const id = decodeURIComponent(decoded.slice(0, i));
      if (i === -1 || id !== AS_CLIENT_ID || decodeURIComponent(decoded.slice(i + 1)) !== AS_CLIENT_SECRET) {
        return Response.json({ error: "invalid_client", error_description: `bad client ${decoded}` }, { status: 401 });
      }
      const assertion = form.get("assertion");
      if (!assertion) return oauthError("invalid_request");
      try {
        if (decodeProtectedHeader(assertion).typ !== "oauth-id-jag+jwt") throw new Error("typ");
        const withoutSlash = base.replace(/\/+$/, "");
        const { payload } = await jwtVerify(assertion, grantKey.publicKey, { audience: [withoutSlash, `${withoutSlash}/`], clockTolerance: 30 });
        if (payload.client_id !== id) throw new Error("client_id");
        if (payload.resource !== resource) throw new Error("resource");
      } catch (e) {
        failures.push(`as: ${(e as Error).message}`);
        return Response.json({ error: "invalid_grant", error_description: `bad assertion ${assertion}` }, { status: 400 });
      }
      return Response.json({ access_token: `test-token-${Date.now()}`, token_type: "Bearer", expires_in: 3600, ...(form.get("scope") ? { scope: form.get("scope") } : {}) });
    });
    resource = `${as.url}/mcp`;
  });
  afterAll(() => {
    idp.stop();
    as.stop();
  });

  const metadata = (): oauth.AuthorizationServer => ({
    issuer: as.url,
    token_endpoint: `${as.url}/token`,
    grant_types_supported: ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
    token_endpoint_auth_methods_supported: ["client_secret_basic"],
  });
  const client: MachineClient = { clientId: AS_CLIENT_ID, clientSecret: AS_CLIENT_SECRET };
  const idpClient = async (more: Partial<IdentityProviderClient> = {}): Promise<IdentityProviderClient> => ({ tokenEndpoint: `${idp.url}/token`, clientId: IDP_CLIENT_ID, idToken: await idToken(), ...more });

  /** Clears what the servers recorded, and runs `fn`. */
  async function fresh<T>(fn: () => Promise<T>): Promise<T> {
    idpRequests.length = 0;
    asRequests.length = 0;
    failures.length = 0;
    issuedTokenType = ID_JAG;
    return fn();
  }

  it("exchanges the ID token at the IdP for an ID-JAG, then trades it for an access token with client_secret_basic", async () => {
    const { fetch, sent } = recordingFetch();
    const subject = await idToken();
    const grant = await fresh(() => crossAppGrant(metadata(), fetch, client, { tokenEndpoint: `${idp.url}/token`, clientId: IDP_CLIENT_ID, idToken: subject }, { scopes: ["mcp:read", "mcp:write"], resource }));
    expect(failures).toEqual([]);
    expect(grant.tokens.access_token).toStartWith("test-token-");
    expect(grant.tokens.scope).toBe("mcp:read mcp:write");
    expect(grant.authMethod).toBe("client_secret_basic");
    expect(grant.requestedScopes).toEqual(["mcp:read", "mcp:write"]);
    expect(sent.map((s) => s.url)).toEqual([`${idp.url}/token`, `${as.url}/token`]);
    // Step 1, RFC 8693 §2.1: exactly the parameters SEP-990 names.
    const ex = idpRequests[0]!;
    expect(Object.fromEntries(ex)).toEqual({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      requested_token_type: ID_JAG,
      audience: as.url,
      resource,
      subject_token: subject,
      subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
      scope: "mcp:read mcp:write",
      client_id: IDP_CLIENT_ID,
    });
    expect(sent[0]!.authorization).toBeNull();
    // Step 2, RFC 7523 §2.1: the ID-JAG as the assertion, the client in the Basic header.
    const bearer = asRequests[0]!;
    expect(bearer.form.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    expect(decodeJwt(bearer.form.get("assertion")!).aud).toBe(as.url);
    expect(bearer.form.get("scope")).toBe("mcp:read mcp:write");
    expect(bearer.form.has("client_secret")).toBe(false);
    expect(bearer.authorization).toStartWith("Basic ");
  });

  it("sends no scope when none is given, and the IdP client's secret in the body when it has one", async () => {
    const grant = await fresh(async () => crossAppGrant(metadata(), recordingFetch().fetch, client, await idpClient({ clientSecret: IDP_CLIENT_SECRET }), { resource }));
    expect(failures).toEqual([]);
    expect(grant.tokens.access_token).toStartWith("test-token-");
    expect(idpRequests[0]!.get("client_secret")).toBe(IDP_CLIENT_SECRET);
    expect(idpRequests[0]!.has("scope")).toBe(false);
    expect(asRequests[0]!.form.has("scope")).toBe(false);
  });

  it("an expired ID token: a BrokerError for the token exchange at the identity provider; no secret, ID token or echo in it; the AS never asked", async () => {
    const subject = await idToken({ exp: "-1m" });
    const { code, message } = await fresh(async () => codeOf(crossAppGrant(metadata(), recordingFetch().fetch, client, await idpClient({ idToken: subject, clientSecret: IDP_CLIENT_SECRET }), { resource })));
    expect(code).toBe("OAUTH_ERROR");
    expect(message).toContain("token exchange at the identity provider");
    expect(message).toContain("invalid_grant");
    expect(message).toContain("IDP_ID_TOKEN");
    expectNoneOf(message, [subject, IDP_CLIENT_SECRET, AS_CLIENT_SECRET, "bad token"]);
    expect(asRequests).toHaveLength(0);
  });

  it("a wrong client secret at the authorization server: a BrokerError for the JWT bearer grant; no secret or assertion in it", async () => {
    const wrong = `wr:ng%-${randomUUID()}`;
    const { code, message } = await fresh(async () => codeOf(crossAppGrant(metadata(), recordingFetch().fetch, { clientId: AS_CLIENT_ID, clientSecret: wrong }, await idpClient(), { resource })));
    expect(code).toBe("OAUTH_ERROR");
    expect(message).toContain("JWT bearer grant");
    expect(message).toContain("invalid_client");
    const assertion = asRequests[0]!.form.get("assertion")!;
    expectNoneOf(message, [wrong, AS_CLIENT_SECRET, assertion, "bad client"]);
  });

  it("an ID-JAG for another resource is refused by the authorization server, and the message says so without the assertion", async () => {
    const { code, message } = await fresh(async () => codeOf(crossAppGrant(metadata(), recordingFetch().fetch, client, await idpClient(), { resource: `${as.url}/other` })));
    expect(failures).toEqual(["as: resource"]);
    expect(code).toBe("OAUTH_ERROR");
    expect(message).toContain("JWT bearer grant");
    expect(message).toContain("identity assertion");
    expectNoneOf(message, [asRequests[0]!.form.get("assertion")!, "bad assertion"]);
  });

  it("a token exchange answer that is not an ID-JAG is refused before the authorization server is asked", async () => {
    const { code, message } = await fresh(async () => {
      issuedTokenType = "urn:ietf:params:oauth:token-type:access_token";
      return codeOf(crossAppGrant(metadata(), recordingFetch().fetch, client, await idpClient(), { resource }));
    });
    expect(code).toBe("OAUTH_INVALID_RESPONSE");
    expect(message).toContain("identity assertion grant");
    expect(asRequests).toHaveLength(0);
  });

  it.each([
    ["http: on another host", "http://idp.example/token"],
    ["a user:password part", "https://user:pw@idp.example/token"],
    ["a file: URL", "file:///etc/passwd"],
  ])("refuses an IdP token endpoint with %s before anything is sent (URL policy)", async (_what, tokenEndpoint) => {
    const { fetch, sent } = recordingFetch();
    const { code, message } = await codeOf(crossAppGrant(metadata(), fetch, client, await idpClient({ tokenEndpoint }), { resource }));
    expect(code).toBe("UNSAFE_URL");
    expect(message).toContain("identity provider's token endpoint");
    expect(sent).toHaveLength(0);
  });

  it("an unusable private key fails before the ID token is spent", async () => {
    const { fetch, sent } = recordingFetch();
    const { code } = await codeOf(crossAppGrant(metadata(), fetch, { clientId: AS_CLIENT_ID, privateKey: { pem: "not a key", alg: "ES256" } }, await idpClient(), { resource }));
    expect(code).toBe("CONFIG_INVALID");
    expect(sent).toHaveLength(0);
  });
});
