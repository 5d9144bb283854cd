// Minted tokens: short-lived JWTs signed HS256 (JWT_SECRET) or ES256 (a persisted key pair).
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, errors, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from "jose";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { BrokerError } from "../errors.ts";
import type { Store } from "./store.ts";
import type { Clock } from "./clock.ts";
import { loadOrCreateInternalItem } from "./internal-item.ts";
import type { WithLock } from "./lock.ts";
import type { RevocationList } from "./revocations.ts";
import { MINT_TTL, mintTtl, type MintProvider } from "./ttl.ts";

export const TOKEN_ISSUER = "mcp-credentials-broker";
/** The signing key pair lives in the store as `mcb-internal:jwt-es256-key`. */
const ES256_KEY_ITEM = "jwt-es256-key";

const StoredKeySchema = z.object({ kty: z.literal("EC"), crv: z.literal("P-256"), x: z.string(), y: z.string(), d: z.string(), kid: z.string() });

export interface MintedToken {
  tokenId: string;
  token: string;
  provider: MintProvider;
  scopes: string[];
  resource?: string;
  expiresAt: number;
  expiresIn: number;
}

export type VerifyResult =
  | { valid: true; claims: JWTPayload }
  | { valid: false; reason: string; claims?: JWTPayload };

export interface TokenDeps {
  store: Store;
  clock: Clock;
  revocations: RevocationList;
  /** JWT_SECRET, when set: sign HS256 with it (seed-compatible). */
  jwtSecret?: string;
  /** Serialises "create the signing key if missing" across processes. */
  withLock: WithLock;
}

type SigningKey = { alg: "HS256"; key: Uint8Array; kid?: undefined } | { alg: "ES256"; key: CryptoKey; publicJwk: JWK; kid: string };

/** Mints, verifies and revokes the broker's own JWTs. */
export class TokenService {
  readonly #active = new Map<string, number>();
  #es256: Promise<{ privateKey: CryptoKey; publicKey: CryptoKey; publicJwk: JWK; kid: string }> | null = null;

  constructor(private readonly deps: TokenDeps) {
    if (deps.jwtSecret !== undefined && Buffer.byteLength(deps.jwtSecret) < 32) {
      // RFC 7518 §3.2: an HS256 key MUST be at least as long as the hash output (256 bits).
      throw new BrokerError("INVALID_INPUT", "JWT_SECRET is shorter than 32 bytes, too short for HS256 (RFC 7518 §3.2). Set a longer random value, e.g. `openssl rand -base64 48`, or unset it to use ES256.");
    }
  }

  /** Signs a token for `provider` with the seed's claims plus iss/aud/scope; TTL within the provider's max. */
  async mint(input: { provider: MintProvider; scopes: string[]; resource?: string; ttlSeconds?: number }): Promise<MintedToken> {
    const ttl = mintTtl(input.provider, input.ttlSeconds);
    const nowMs = this.deps.clock.now();
    const iat = Math.floor(nowMs / 1000);
    const exp = iat + ttl;
    const jti = `tok_${randomBytes(16).toString("base64url")}`;
    const key = await this.#signingKey();
    const claims: JWTPayload = {
      jti,
      provider: input.provider,
      scopes: input.scopes,
      scope: input.scopes.join(" "), // RFC 9068 §2.2.3: space-separated
      ...(input.resource !== undefined ? { resource: input.resource } : {}),
    };
    const jwt = new SignJWT(claims)
      .setProtectedHeader(key.alg === "ES256" ? { alg: "ES256", kid: key.kid, typ: "JWT" } : { alg: "HS256", typ: "JWT" })
      .setIssuer(TOKEN_ISSUER)
      .setIssuedAt(iat)
      .setExpirationTime(exp);
    if (input.resource !== undefined) jwt.setAudience(input.resource);
    const token = await jwt.sign(key.key);
    this.#active.set(jti, exp * 1000);
    return { tokenId: jti, token, provider: input.provider, scopes: input.scopes, resource: input.resource, expiresAt: exp * 1000, expiresIn: ttl };
  }

  /** Checks signature, issuer, expiry and revocation. Never throws for a bad token. */
  async verify(token: string): Promise<VerifyResult> {
    let header;
    let unverified: JWTPayload | undefined;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      return { valid: false, reason: "Not a JWT (expected three base64url parts)." };
    }
    const key = await this.#verificationKey(header.alg);
    if ("reason" in key) return { valid: false, reason: key.reason };
    try {
      const { payload } = await jwtVerify(token, key.key, {
        issuer: TOKEN_ISSUER,
        algorithms: [key.alg],
        currentDate: new Date(this.deps.clock.now()),
      });
      if (typeof payload.jti === "string" && this.deps.revocations.has(payload.jti)) {
        return { valid: false, reason: "Token has been revoked.", claims: payload };
      }
      return { valid: true, claims: payload };
    } catch (e) {
      if (e instanceof errors.JWTExpired) return { valid: false, reason: "Token has expired.", claims: unverified };
      if (e instanceof errors.JWSSignatureVerificationFailed) return { valid: false, reason: "Signature does not verify: the token was altered or signed by another key." };
      if (e instanceof errors.JOSEError) return { valid: false, reason: `Token rejected (${e.code}).` };
      throw e;
    }
  }

  /**
   * Revokes by token id, or by the token itself. The id is persisted until the token's
   * expiry (or the longest TTL when the expiry is unknown), so every process rejects it.
   * A token is revoked only when its signature verifies: its `jti` and `exp` decide what is
   * recorded, and an altered copy could otherwise name an expiry in the past (answering
   * "revoked" while the real token keeps verifying) or another token's id. `known` is false
   * when a bare id was not minted by this process; `expired` when the token already expired.
   */
  async revoke(tokenIdOrJwt: string): Promise<{ tokenId: string; known: boolean; expired: boolean }> {
    let jti = tokenIdOrJwt;
    let expMs = this.#active.get(jti);
    if (tokenIdOrJwt.split(".").length === 3) {
      const claims = await this.#verifiedClaims(tokenIdOrJwt);
      if (typeof claims.jti === "string") jti = claims.jti;
      if (typeof claims.exp === "number") expMs = claims.exp * 1000;
    }
    if (!/^tok_[A-Za-z0-9_-]{1,64}$/.test(jti)) {
      throw new BrokerError("NOT_FOUND", "Unknown token id. Pass the tokenId returned by mint_token (it starts with 'tok_').");
    }
    const known = expMs !== undefined;
    const expired = expMs !== undefined && expMs <= this.deps.clock.now();
    const longest = Math.max(...Object.values(MINT_TTL).map((r) => r.max)) * 1000;
    if (!expired) await this.deps.revocations.add(jti, expMs ?? this.deps.clock.now() + longest);
    this.#active.delete(jti);
    return { tokenId: jti, known, expired };
  }

  /**
   * The claims of a token whose signature and issuer verify (RFC 7519 §7.2), expired or
   * not; TOKEN_INVALID otherwise. Nothing is taken from a token that does not verify.
   */
  async #verifiedClaims(token: string): Promise<JWTPayload> {
    const nothing = "Nothing was revoked: pass the tokenId (tok_…) from mint_token, or the token exactly as mint_token returned it.";
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new BrokerError("TOKEN_INVALID", `The token to revoke is neither a token id nor a readable JWT. ${nothing}`);
    }
    const key = await this.#verificationKey(alg);
    if ("reason" in key) throw new BrokerError("TOKEN_INVALID", `The token to revoke cannot be checked here: ${key.reason} ${nothing}`);
    try {
      return (await jwtVerify(token, key.key, { issuer: TOKEN_ISSUER, algorithms: [key.alg], currentDate: new Date(this.deps.clock.now()) })).payload;
    } catch (e) {
      // jose checks the signature before the claims: an expired token's payload is verified.
      if (e instanceof errors.JWTExpired) return e.payload;
      if (e instanceof errors.JOSEError) {
        const why = e instanceof errors.JWSSignatureVerificationFailed ? "its signature does not verify (the token was altered or signed by another key)" : `it was rejected (${e.code})`;
        throw new BrokerError("TOKEN_INVALID", `The token to revoke is not one this broker issued: ${why}. ${nothing}`);
      }
      throw e;
    }
  }

  /** The key that checks a token signed with `alg`, or why there is none. */
  async #verificationKey(alg: unknown): Promise<{ alg: "HS256" | "ES256"; key: Uint8Array | CryptoKey } | { reason: string }> {
    if (alg === "HS256") {
      if (this.deps.jwtSecret === undefined) return { reason: "Token is HS256 but JWT_SECRET is not set in this broker." };
      return { alg, key: new TextEncoder().encode(this.deps.jwtSecret) };
    }
    if (alg === "ES256") return { alg, key: (await this.#es256Key()).publicKey };
    // Quoted as JSON and capped: the header is anyone's text, and this reason is printed.
    return { reason: `Unsupported algorithm ${JSON.stringify(String(alg)).slice(0, 40)}: only HS256 and ES256 tokens are issued here.` };
  }

  /** Tokens minted by this process that are neither expired nor revoked. */
  activeCount(): number {
    const now = this.deps.clock.now();
    let n = 0;
    for (const [jti, exp] of this.#active) {
      if (exp <= now || this.deps.revocations.has(jti)) this.#active.delete(jti);
      else n++;
    }
    return n;
  }

  /** The public JWKS for ES256 tokens (RFC 7517 §5), creating the key pair if needed. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const k = await this.#es256Key();
    return { keys: [{ ...k.publicJwk, kid: k.kid, alg: "ES256", use: "sig" }] };
  }

  /** Which algorithm new tokens are signed with. */
  get algorithm(): "HS256" | "ES256" {
    return this.deps.jwtSecret !== undefined ? "HS256" : "ES256";
  }

  async #signingKey(): Promise<SigningKey> {
    if (this.deps.jwtSecret !== undefined) return { alg: "HS256", key: new TextEncoder().encode(this.deps.jwtSecret) };
    const k = await this.#es256Key();
    return { alg: "ES256", key: k.privateKey, publicJwk: k.publicJwk, kid: k.kid };
  }

  /** Loads the ES256 key pair from the store, creating it once (under a lock) if missing. */
  #es256Key() {
    this.#es256 ??= loadOrCreateInternalItem(this.deps, ES256_KEY_ITEM, async () => {
      const pair = await generateKeyPair("ES256", { extractable: true });
      const priv = await exportJWK(pair.privateKey);
      const { d: _d, ...pub } = priv;
      return JSON.stringify({ ...priv, kid: await calculateJwkThumbprint(pub) }); // RFC 7638
    })
      .then(async (raw) => {
        let json: unknown;
        try {
          json = JSON.parse(raw);
        } catch {
          json = undefined;
        }
        const parsed = StoredKeySchema.safeParse(json);
        if (!parsed.success) throw new BrokerError("STORE_CORRUPT", "The stored ES256 signing key is unreadable. Move the store aside so a new key is created (tokens signed with the old key will stop verifying), or set JWT_SECRET to sign with HS256.");
        const { kid, ...jwk } = parsed.data;
        const { d: _d, ...pub } = jwk;
        const privateKey = (await importJWK({ ...jwk, alg: "ES256" }, "ES256")) as CryptoKey;
        const publicKey = (await importJWK({ ...pub, alg: "ES256" }, "ES256")) as CryptoKey;
        return { privateKey, publicKey, publicJwk: pub as JWK, kid };
      })
      .catch((e: unknown) => {
        this.#es256 = null;
        throw e;
      });
    return this.#es256;
  }
}
