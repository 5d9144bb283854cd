// The broker's use cases: store, reference, resolve, list and delete secrets; mint and verify tokens.
import { randomBytes } from "node:crypto";
import { BrokerError } from "../errors.ts";
import { isInternalName, INTERNAL_PREFIX, type SecretEntry, type Store } from "../store/store.ts";
import type { AuditEntry, AuditLog } from "./audit.ts";
import type { Clock } from "./clock.ts";
import type { RevocationList } from "./revocations.ts";
import type { TokenService } from "./tokens.ts";
import { referenceTtl, type MintProvider } from "./ttl.ts";

export interface BrokerDeps {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  revocations: RevocationList;
  jwtSecret?: string;
  withLock: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
}

/** Who is asking: the MCP client's name from `initialize`, or "cli". */
export interface CallContext {
  client?: string;
}

export interface SecretReference {
  id: string;
  name: string;
  purpose: string;
  expiresAt: number;
  expiresIn: number;
}

interface LiveReference {
  name: string;
  purpose: string;
  expiresAt: number;
}

export const MAX_NAME_LENGTH = 256;
export const MAX_VALUE_BYTES = 64 * 1024;

/** Throws INVALID_INPUT unless `name` is usable as a user secret name. */
export function checkSecretName(name: string): void {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw new BrokerError("INVALID_INPUT", `A secret name must be 1 to ${MAX_NAME_LENGTH} characters.`);
  }
  // biome-ignore lint: control characters are exactly what we refuse here
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new BrokerError("INVALID_INPUT", "A secret name must not contain control characters (newlines, tabs, NUL).");
  }
  if (isInternalName(name)) {
    throw new BrokerError("INVALID_INPUT", `Names starting with '${INTERNAL_PREFIX}' are reserved for the broker. Choose another name.`);
  }
}

/**
 * The credential core shared by the MCP tools and the CLI. References live only in
 * this object (this process); secrets and revocations live in the injected store.
 */
export class Broker {
  readonly #refs = new Map<string, LiveReference>();
  #tokens: Promise<TokenService> | null = null;

  constructor(readonly deps: BrokerDeps) {}

  /** Stores (or replaces) a secret; resolves once the write is durable. */
  async storeSecret(name: string, value: string, tags: Record<string, string> | undefined, ctx: CallContext): Promise<void> {
    await this.#audited({ event: "store", name, client: ctx.client }, async () => {
      checkSecretName(name);
      if (Buffer.byteLength(value) > MAX_VALUE_BYTES) {
        throw new BrokerError("INVALID_INPUT", `A secret value may be at most ${MAX_VALUE_BYTES} bytes.`);
      }
      const now = this.deps.clock.now();
      const prev = await this.deps.store.get(name);
      await this.deps.store.set(name, { value, ...(tags ? { tags } : {}), createdAt: prev?.createdAt ?? now, updatedAt: now });
    });
  }

  /** Issues a single-use reference to a stored secret, valid for `ttlSeconds`. */
  async issueReference(name: string, purpose: string, ttlSeconds: number | undefined, ctx: CallContext): Promise<SecretReference> {
    return this.#audited({ event: "get", name, purpose, client: ctx.client }, async (entry) => {
      const ttl = referenceTtl(ttlSeconds);
      checkSecretName(name);
      if (!(await this.deps.store.get(name))) throw this.#notFound(name);
      this.#sweepReferences();
      const id = `ref_${randomBytes(24).toString("base64url")}`;
      const expiresAt = this.deps.clock.now() + ttl * 1000;
      this.#refs.set(id, { name, purpose, expiresAt });
      entry.reference = id;
      return { id, name, purpose, expiresAt, expiresIn: ttl };
    });
  }

  /** Returns the value behind a reference and consumes the reference. */
  async resolveReference(id: string, ctx: CallContext): Promise<string> {
    const ref = this.#refs.get(id);
    return this.#audited({ event: "resolve", reference: id, name: ref?.name, purpose: ref?.purpose, client: ctx.client }, async () => {
      if (!ref) {
        throw new BrokerError("REFERENCE_NOT_FOUND", "Unknown secret reference, or one already used (references are single-use). Call get_secret for a new reference.");
      }
      // Single use: the reference is gone before the value is read, whatever happens next.
      this.#refs.delete(id);
      if (this.deps.clock.now() >= ref.expiresAt) {
        throw new BrokerError("REFERENCE_EXPIRED", `The reference to '${ref.name}' has expired. Call get_secret again (ttl_seconds sets how long a reference lives).`);
      }
      const record = await this.deps.store.get(ref.name);
      if (!record) throw this.#notFound(ref.name);
      return record.value;
    });
  }

  /** Reads a secret directly (CLI `secret get`, for the human at the terminal). */
  async readSecret(name: string, ctx: CallContext): Promise<string> {
    return this.#audited({ event: "resolve", name, purpose: "cli secret get", client: ctx.client }, async () => {
      checkSecretName(name);
      const record = await this.deps.store.get(name);
      if (!record) throw this.#notFound(name);
      return record.value;
    });
  }

  /** Names and metadata of user secrets, sorted by name. Never values. */
  async listSecrets(): Promise<SecretEntry[]> {
    const all = await this.deps.store.list();
    return all.filter((e) => !isInternalName(e.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Deletes a secret; references to it stop resolving. */
  async deleteSecret(name: string, ctx: CallContext): Promise<void> {
    await this.#audited({ event: "delete", name, client: ctx.client }, async () => {
      checkSecretName(name);
      if (!(await this.deps.store.delete(name))) throw this.#notFound(name);
      for (const [id, r] of this.#refs) if (r.name === name) this.#refs.delete(id);
    });
  }

  async mintToken(input: { provider: MintProvider; scopes: string[]; resource?: string; ttlSeconds?: number }, ctx: CallContext) {
    return this.#audited({ event: "mint", provider: input.provider, client: ctx.client }, async (entry) => {
      const t = await (await this.tokens()).mint(input);
      entry.tokenId = t.tokenId;
      return t;
    });
  }

  async revokeToken(tokenId: string, ctx: CallContext) {
    return this.#audited({ event: "revoke", client: ctx.client }, async (entry) => {
      const r = await (await this.tokens()).revoke(tokenId);
      entry.tokenId = r.tokenId;
      return r;
    });
  }

  async verifyToken(token: string) {
    return (await this.tokens()).verify(token);
  }

  /** Counts for get_broker_stats. */
  async stats(): Promise<{ activeTokens: number; activeReferences: number; storedSecrets: number }> {
    this.#sweepReferences();
    const activeTokens = this.#tokens ? (await this.#tokens).activeCount() : 0;
    return { activeTokens, activeReferences: this.#refs.size, storedSecrets: (await this.listSecrets()).length };
  }

  /** The token service, loaded on first use so start-up does not pay for jose. */
  tokens(): Promise<TokenService> {
    this.#tokens ??= import("./tokens.ts").then((m) => new m.TokenService(this.deps)).catch((e: unknown) => {
      this.#tokens = null;
      throw e;
    });
    return this.#tokens;
  }

  async close(): Promise<void> {
    this.#refs.clear();
    await this.deps.store.close();
    this.deps.audit.close();
  }

  #sweepReferences(): void {
    const now = this.deps.clock.now();
    for (const [id, r] of this.#refs) if (r.expiresAt <= now) this.#refs.delete(id);
  }

  #notFound(name: string): BrokerError {
    return new BrokerError("NOT_FOUND", `No secret named '${name}'. Store it first (store_secret, or \`mcp-credentials-broker secret set ${name}\`), or call list_secrets to see the names.`);
  }

  /** Runs `fn` and appends one audit line with its outcome; `fn` may add ids to the entry. */
  async #audited<T>(base: Omit<AuditEntry, "outcome">, fn: (entry: Omit<AuditEntry, "outcome">) => Promise<T>): Promise<T> {
    // Names and purposes are capped so a hostile 1 MB input cannot bloat the log.
    const entry = { ...base, name: base.name?.slice(0, MAX_NAME_LENGTH), purpose: base.purpose?.slice(0, 512) };
    try {
      const result = await fn(entry);
      this.deps.audit.record({ ...entry, outcome: "ok" });
      return result;
    } catch (e) {
      this.deps.audit.record({ ...entry, outcome: "error", error: e instanceof BrokerError ? e.code : "INTERNAL" });
      throw e;
    }
  }
}
