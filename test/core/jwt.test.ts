import { describe, expect, it } from "bun:test";
import jwt from "jsonwebtoken";
import { createPublicKey } from "node:crypto";
import { ManualClock } from "../../src/core/clock.ts";
import { MINT_PROVIDERS, MINT_TTL } from "../../src/core/ttl.ts";
import { BrokerError } from "../../src/errors.ts";
import { memoryBroker } from "./fixtures.ts";

const SECRET = "an-hs256-secret-of-at-least-32-bytes!!";
const cli = { client: "unit" };

function tamper(token: string): string {
  const [h, p, s] = token.split(".");
  const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
  claims.scopes = ["admin"];
  return [h, Buffer.from(JSON.stringify(claims)).toString("base64url"), s].join(".");
}

/** The token with some claims replaced and its signature kept (a copy altered by hand). */
function withClaims(token: string, change: Record<string, unknown>): string {
  const [h, p, sig] = token.split(".");
  const claims = { ...JSON.parse(Buffer.from(p!, "base64url").toString()), ...change };
  return [h, Buffer.from(JSON.stringify(claims)).toString("base64url"), sig].join(".");
}

describe("mint_token TTL table", () => {
  it.each(MINT_PROVIDERS.map((p) => [p, MINT_TTL[p].max] as const))("%s: default 1 h, max %d s, above max names the max", async (provider, max) => {
    const { broker } = memoryBroker();
    const def = await broker.mintToken({ provider, scopes: ["s"] }, cli);
    expect(def.expiresIn).toBe(3600);
    const top = await broker.mintToken({ provider, scopes: ["s"], ttlSeconds: max }, cli);
    expect(top.expiresIn).toBe(max);
    const err = await broker.mintToken({ provider, scopes: ["s"], ttlSeconds: max + 1 }, cli).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerError);
    expect((err as BrokerError).code).toBe("TTL_OUT_OF_RANGE");
    expect((err as BrokerError).message).toContain(String(max));
  });

  it("has the documented maxima", () => {
    expect(MINT_TTL.github.max).toBe(8 * 3600);
    for (const p of ["aws", "gcp", "azure", "okta"] as const) expect(MINT_TTL[p].max).toBe(12 * 3600);
    expect(MINT_TTL.oauth2.max).toBe(24 * 3600);
  });

  it.each([0, -5, 2.5])("refuses ttl %p", async (ttl) => {
    const { broker } = memoryBroker();
    await expect(broker.mintToken({ provider: "aws", scopes: [], ttlSeconds: ttl }, cli)).rejects.toThrow(/ttl_seconds/);
  });
});

describe("minted token claims", () => {
  it("carries the seed's claims plus iss, aud and a space-separated scope", async () => {
    const { broker, clock } = memoryBroker();
    const t = await broker.mintToken({ provider: "gcp", scopes: ["a", "b"], resource: "https://api.example", ttlSeconds: 600 }, cli);
    const claims = jwt.decode(t.token) as Record<string, unknown>;
    expect(claims).toMatchObject({ jti: t.tokenId, provider: "gcp", scopes: ["a", "b"], scope: "a b", resource: "https://api.example", aud: "https://api.example", iss: "mcp-credentials-broker" });
    expect(claims.exp).toBe(Math.floor(clock.now() / 1000) + 600);
    expect(t.expiresAt).toBe((claims.exp as number) * 1000);
  });
});

describe("verify_token", () => {
  it("accepts a fresh token and rejects tampered, expired and revoked ones", async () => {
    const { broker, clock } = memoryBroker();
    const t = await broker.mintToken({ provider: "github", scopes: ["repo"], ttlSeconds: 60 }, cli);
    expect((await broker.verifyToken(t.token)).valid).toBe(true);

    const tampered = await broker.verifyToken(tamper(t.token));
    expect(tampered).toMatchObject({ valid: false });
    expect(tampered.valid === false && tampered.reason).toMatch(/signature/i);

    const t2 = await broker.mintToken({ provider: "github", scopes: ["repo"], ttlSeconds: 60 }, cli);
    await broker.revokeToken(t2.tokenId, cli);
    const revoked = await broker.verifyToken(t2.token);
    expect(revoked.valid === false && revoked.reason).toMatch(/revoked/i);
    expect((await broker.stats()).activeTokens).toBe(1);

    clock.advance(61_000);
    const expired = await broker.verifyToken(t.token);
    expect(expired.valid === false && expired.reason).toMatch(/expired/i);
    expect((await broker.stats()).activeTokens).toBe(0);
  });

  it("rejects garbage and foreign algorithms without throwing", async () => {
    const { broker } = memoryBroker();
    expect((await broker.verifyToken("not-a-jwt")).valid).toBe(false);
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from('{"iss":"mcp-credentials-broker"}').toString("base64url")}.`;
    expect((await broker.verifyToken(none)).valid).toBe(false);
    const hsWithoutSecret = jwt.sign({ iss: "mcp-credentials-broker" }, SECRET, { algorithm: "HS256" });
    expect((await broker.verifyToken(hsWithoutSecret)).valid).toBe(false);
  });

  it("revokes by the token itself too, for the token's lifetime", async () => {
    const { broker, revocations } = memoryBroker();
    const t = await broker.mintToken({ provider: "okta", scopes: [] }, cli);
    const r = await broker.revokeToken(t.token, cli);
    expect(r.tokenId).toBe(t.tokenId);
    expect(revocations.has(t.tokenId)).toBe(true);
  });

  it("revokes only a token whose signature verifies: a tampered copy (an expiry in the past, another id) is refused and revokes nothing", async () => {
    for (const jwtSecret of [undefined, SECRET]) {
      const { broker, revocations } = memoryBroker({ jwtSecret });
      const t = await broker.mintToken({ provider: "github", scopes: ["repo"], ttlSeconds: 3600 }, cli);
      const other = await broker.mintToken({ provider: "github", scopes: ["repo"], ttlSeconds: 3600 }, cli);
      for (const change of [{ exp: 1 }, { jti: other.tokenId }, { exp: 1, jti: other.tokenId }]) {
        const err = await broker.revokeToken(withClaims(t.token, change), cli).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BrokerError);
        expect((err as BrokerError).code).toBe("TOKEN_INVALID");
        expect((err as BrokerError).message).toMatch(/signature does not verify[\s\S]*Nothing was revoked/);
      }
      expect(revocations.has(t.tokenId)).toBe(false);
      expect(revocations.has(other.tokenId)).toBe(false);
      expect((await broker.verifyToken(t.token)).valid).toBe(true);
      expect((await broker.verifyToken(other.token)).valid).toBe(true);
      // The genuine token still revokes, for its own lifetime.
      expect(await broker.revokeToken(t.token, cli)).toMatchObject({ tokenId: t.tokenId, known: true, expired: false });
      expect((await broker.verifyToken(t.token)).valid).toBe(false);
      expect((await broker.verifyToken(other.token)).valid).toBe(true);
    }
  });

  it("refuses a token it cannot check (unsigned, HS256 without JWT_SECRET) and says a genuine expired token had nothing left to revoke", async () => {
    const { broker, clock } = memoryBroker();
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify({ iss: "mcp-credentials-broker", jti: "tok_x" })).toString("base64url")}.`;
    await expect(broker.revokeToken(none, cli)).rejects.toThrow(/Unsupported algorithm "none"[\s\S]*Nothing was revoked/);
    const hs = jwt.sign({ iss: "mcp-credentials-broker", jti: "tok_y" }, SECRET, { algorithm: "HS256" });
    await expect(broker.revokeToken(hs, cli)).rejects.toThrow(/JWT_SECRET is not set/);
    await expect(broker.revokeToken("a.b.c", cli)).rejects.toThrow(/neither a token id nor a readable JWT/);
    const t = await broker.mintToken({ provider: "github", scopes: [], ttlSeconds: 60 }, cli);
    clock.advance(61_000);
    expect(await broker.revokeToken(t.token, cli)).toMatchObject({ tokenId: t.tokenId, expired: true });
  });

  it("refuses to revoke an id that is not a token id", async () => {
    const { broker } = memoryBroker();
    await expect(broker.revokeToken("../../etc/passwd", cli)).rejects.toThrow(/tok_/);
  });
});

describe("signing keys verify with a standard JWT library (jsonwebtoken)", () => {
  it("signs HS256 with JWT_SECRET", async () => {
    // jsonwebtoken checks exp against the real time.
    const { broker } = memoryBroker({ jwtSecret: SECRET, clock: new ManualClock(Date.now()) });
    const t = await broker.mintToken({ provider: "oauth2", scopes: ["x"], resource: "urn:r" }, cli);
    const claims = jwt.verify(t.token, SECRET, { algorithms: ["HS256"], issuer: "mcp-credentials-broker", audience: "urn:r" }) as jwt.JwtPayload;
    expect(claims.jti).toBe(t.tokenId);
    expect(() => jwt.verify(t.token, `${SECRET}x`, { algorithms: ["HS256"] })).toThrow();
  });

  it("signs ES256 without JWT_SECRET, verifiable with the published JWKS", async () => {
    const { broker } = memoryBroker({ clock: new ManualClock(Date.now()) });
    const t = await broker.mintToken({ provider: "aws", scopes: ["s3:get"] }, cli);
    expect(JSON.parse(Buffer.from(t.token.split(".")[0]!, "base64url").toString())).toMatchObject({ alg: "ES256" });
    const { keys } = await broker.jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toHaveProperty("d");
    const pem = createPublicKey({ key: keys[0] as never, format: "jwk" }).export({ type: "spki", format: "pem" });
    const claims = jwt.verify(t.token, pem, { algorithms: ["ES256"], issuer: "mcp-credentials-broker" }) as jwt.JwtPayload;
    expect(claims.provider).toBe("aws");
  });

  it("keeps one ES256 key across broker instances sharing a store", async () => {
    const a = memoryBroker();
    const t = await a.broker.mintToken({ provider: "aws", scopes: [] }, cli);
    const { Broker } = await import("../../src/core/broker.ts");
    const b = new Broker({ ...a.deps });
    expect((await b.verifyToken(t.token)).valid).toBe(true);
  });

  it("refuses a JWT_SECRET shorter than 32 bytes (RFC 7518 §3.2)", async () => {
    const { broker } = memoryBroker({ jwtSecret: "short" });
    await expect(broker.mintToken({ provider: "aws", scopes: [] }, cli)).rejects.toThrow(/32 bytes/);
  });
});
