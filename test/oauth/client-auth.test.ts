// Client authentication at the token endpoint: client_secret_basic encoded so servers that only
// base64-decode accept it, the method chosen from the server's list, and private_key_jwt
// assertions checked with jose against the public key.
import { describe, expect, it } from "bun:test";
import { decodeProtectedHeader, exportPKCS8, generateKeyPair, jwtVerify } from "jose";
import * as oauth from "oauth4webapi";
import { chooseAuthMethod, clientFor, clientSecretBasic, encodeBasicCredential, importSigningKey, PRIVATE_KEY_ALGS, privateKeyJwt, type PrivateKeyAlg } from "../../src/oauth/client-auth.ts";
import { codeOf } from "../support/broker-error.ts";

const AS: oauth.AuthorizationServer = { issuer: "https://as.example/tenant-1", token_endpoint: "https://as.example/tenant-1/token" };

/** Runs a ClientAuth the way oauth4webapi does before a token request; returns what it set. */
async function apply(auth: oauth.ClientAuth, clientId: string): Promise<{ headers: Headers; body: URLSearchParams }> {
  const headers = new Headers();
  const body = new URLSearchParams({ grant_type: "client_credentials" });
  await auth(AS, { client_id: clientId }, body, headers);
  return { headers, body };
}

/** The Basic credentials as a server that does not form-decode reads them (the MCP conformance suite's mock). */
function splitLikeConformanceMock(header: string | null): string[] {
  expect(header).toStartWith("Basic ");
  return Buffer.from(header!.slice("Basic ".length), "base64").toString("utf-8").split(":");
}

/** The Basic credentials as a form-decoding server reads them (RFC 6749 §2.3.1; oidc-provider). */
function formDecode(header: string | null): [string, string] {
  const raw = Buffer.from(header!.slice("Basic ".length), "base64").toString("utf-8");
  const i = raw.indexOf(":");
  const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, "%20"));
  return [dec(raw.slice(0, i)), dec(raw.slice(i + 1))];
}

describe("client_secret_basic", () => {
  it.each([
    ["pre-registered-client", "pre-registered-client"],
    ["A-Z.a_z~0-9", "A-Z.a_z~0-9"],
    ["id:with:colons", "id%3Awith%3Acolons"],
    ["100%", "100%25"],
    ["a+b c", "a%2Bb%20c"],
    ["é/?#&=", "%C3%A9%2F%3F%23%26%3D"],
  ])("encodes %p as %p (unreserved characters as they are; ':' '%' '+' space and non-ASCII percent-encoded)", (raw, encoded) => {
    expect(encodeBasicCredential(raw)).toBe(encoded);
  });

  it("sends an id with - . _ ~ exactly as registered, so a server that only base64-decodes accepts it", async () => {
    const { headers, body } = await apply(clientSecretBasic("conformance-test-secret"), "pre-registered-client");
    expect(splitLikeConformanceMock(headers.get("authorization"))).toEqual(["pre-registered-client", "conformance-test-secret"]);
    expect(body.has("client_secret")).toBe(false);
    // oauth4webapi's own ClientSecretBasic sends pre%2Dregistered%2Dclient, which such servers refuse.
    const theirs = await apply(oauth.ClientSecretBasic("conformance-test-secret"), "pre-registered-client");
    expect(splitLikeConformanceMock(theirs.headers.get("authorization"))[0]).not.toBe("pre-registered-client");
  });

  it("a secret with ':' and '%' survives a form-decoding server, and the only raw ':' is the separator", async () => {
    const secret = "s3:cr%41t:+ é";
    const { headers } = await apply(clientSecretBasic(secret), "svc-a.b_c~d");
    expect(formDecode(headers.get("authorization"))).toEqual(["svc-a.b_c~d", secret]);
    expect(splitLikeConformanceMock(headers.get("authorization"))).toHaveLength(2);
  });

  it("clientFor uses it for client_secret_basic (refresh and revocation go through clientFor)", async () => {
    const { client, auth } = clientFor("pre-registered-client", "x:y", "client_secret_basic");
    expect(client.client_id).toBe("pre-registered-client");
    const { headers } = await apply(auth, client.client_id);
    expect(splitLikeConformanceMock(headers.get("authorization"))).toEqual(["pre-registered-client", "x%3Ay"]);
  });

  it("clientFor keeps client_secret_post and none as they were", async () => {
    const post = await apply(clientFor("c", "s", "client_secret_post").auth, "c");
    expect([post.headers.has("authorization"), post.body.get("client_id"), post.body.get("client_secret")]).toEqual([false, "c", "s"]);
    const none = await apply(clientFor("c", undefined, "client_secret_basic").auth, "c");
    expect([none.headers.has("authorization"), none.body.get("client_id"), none.body.has("client_secret")]).toEqual([false, "c", false]);
  });
});

describe("chooseAuthMethod", () => {
  it.each([
    [false, ["client_secret_basic"], undefined, "none"],
    [true, undefined, undefined, "client_secret_post"],
    [true, ["client_secret_basic", "client_secret_post"], undefined, "client_secret_post"],
    [true, ["client_secret_basic"], undefined, "client_secret_basic"],
    [true, ["client_secret_post"], undefined, "client_secret_post"],
    [true, undefined, "client_secret_basic", "client_secret_basic"],
    [true, ["client_secret_post", "client_secret_basic"], "client_secret_basic", "client_secret_basic"],
    [true, ["client_secret_post"], "client_secret_basic", "client_secret_post"],
    [true, ["private_key_jwt"], "client_secret_basic", "client_secret_basic"],
  ] as const)("secret %p, server lists %p, preference %p → %p", (hasSecret, supported, preference, expected) => {
    expect(chooseAuthMethod(hasSecret, supported, preference)).toBe(expected);
  });
});

describe("private_key_jwt", () => {
  it.each([...PRIVATE_KEY_ALGS])("signs a client assertion with a PEM PKCS #8 %s key: iss = sub = client id, aud = issuer, short-lived, unique", async (alg) => {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const signing = await importSigningKey(await exportPKCS8(privateKey), alg);
    const { headers, body } = await apply(privateKeyJwt(signing), "svc-jwt");
    expect(headers.has("authorization")).toBe(false);
    expect(body.get("client_id")).toBe("svc-jwt");
    expect(body.get("client_assertion_type")).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    const assertion = body.get("client_assertion")!;
    expect(decodeProtectedHeader(assertion).alg).toBe(alg);
    const { payload } = await jwtVerify(assertion, publicKey, { algorithms: [alg], issuer: "svc-jwt", subject: "svc-jwt", audience: AS.issuer });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(60);
    const again = await apply(privateKeyJwt(signing), "svc-jwt");
    expect((await jwtVerify(again.body.get("client_assertion")!, publicKey)).payload.jti).not.toBe(payload.jti);
  });

  it("defaults to ES256", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    expect((await importSigningKey(await exportPKCS8(privateKey))).alg).toBe("ES256");
  });

  it("clientFor signs with the key for private_key_jwt, and without one sends the client id alone", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const signing = await importSigningKey(await exportPKCS8(privateKey), "ES256");
    expect((await apply(clientFor("c", undefined, "private_key_jwt", signing).auth, "c")).body.has("client_assertion")).toBe(true);
    const bare = await apply(clientFor("c", "s", "private_key_jwt").auth, "c");
    expect([bare.body.get("client_id"), bare.body.has("client_assertion"), bare.body.has("client_secret"), bare.headers.has("authorization")]).toEqual(["c", false, false, false]);
  });

  const ecPem = async (alg: "ES256" | "ES384") => exportPKCS8((await generateKeyPair(alg, { extractable: true })).privateKey);
  it.each<[string, () => Promise<string>, PrivateKeyAlg, string]>([
    ["a P-384 key for ES256", () => ecPem("ES384"), "ES256", "a PKCS #8 key that does not fit ES256"],
    ["an EC key for RS256", () => ecPem("ES256"), "RS256", "does not fit RS256"],
    ["a SEC1 EC key", async () => (await ecPem("ES256")).replace(/PRIVATE KEY/g, "EC PRIVATE KEY"), "ES256", "openssl pkcs8 -topk8"],
    ["a PKCS #8 body that is not a key", async () => "-----BEGIN PRIVATE KEY-----\nTUNCLWNhbmFyeS1rZXktbWF0ZXJpYWw=\n-----END PRIVATE KEY-----\n", "ES256", "does not fit ES256"],
    ["not PEM at all", async () => "MCB-canary-key-material", "ES256", "not PEM"],
  ])("refuses %s with CONFIG_INVALID, naming what the file holds and never its content", async (_what, pem, alg, says) => {
    const key = await pem();
    const { code, message } = await codeOf(importSigningKey(key, alg));
    expect(code).toBe("CONFIG_INVALID");
    expect(message).toContain(says);
    for (const line of key.split("\n").filter((l) => l.length > 8 && !l.startsWith("-----"))) expect(message).not.toContain(line);
  });
});
