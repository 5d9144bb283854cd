// The broker's use cases: store, reference, resolve, list and delete secrets; mint and verify tokens.
import { randomBytes } from "node:crypto";
import { BrokerError } from "../errors.ts";
import { isUnusable, loginRequired, needsRefresh } from "./expiry.ts";
import type { LoginRequest, LoginResult, LoginUi, OAuthPort, RevocationOutcome } from "./oauth.ts";
import type { WithLock } from "./lock.ts";
import { isInternalName, INTERNAL_PREFIX, REMOTE_TOKEN_PREFIX, type ApprovalSettings, type Policy, type SecretEntry, type SecretRecord, type Store, type StoreBackend } from "./store.ts";
import { loadProviderSettings, providerSettingsName, ProviderSettingsSchema, savedProviderIds, type ProviderSettings, type SavedProvider } from "./provider-settings.ts";
import { Approvals, type ApprovalDriver, type ApprovalLedger } from "./approval.ts";
import type { AuditEntry, AuditEvent, AuditLog } from "./audit.ts";
import type { Clock } from "./clock.ts";
import { Fingerprinter } from "./fingerprint.ts";
import { checkAgentChange, enforcePolicy, policyDenied } from "./policy.ts";
import { checkApprovalSettings, checkMintRequest, checkPolicy, checkPurpose, checkSecretName, checkSecretValue, checkTags, MAX_NAME_LENGTH, MAX_PURPOSE_LENGTH, normalizeHosts } from "./schemas.ts";
import type { RevocationList } from "./revocations.ts";
import type { TokenService } from "./jwt.ts";
import { referenceTtl, type MintProvider } from "./ttl.ts";

export interface BrokerDeps {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  revocations: RevocationList;
  jwtSecret?: string;
  /** Runs `fn` holding the cross-process lock file `<name>.lock` in the data dir. */
  withLock: WithLock;
  /** The OAuth side (login, refresh, revocation), loaded on first use; absent → logins are unavailable. */
  oauth?: () => Promise<OAuthPort>;
  /** Login settings from the environment (MCB_LOGIN_TIMEOUT, MCB_CALLBACK_PORT). */
  loginDefaults?: { timeoutMs: number; port?: number };
  /**
   * Approval of `confirm` secrets beyond the caller's own driver: this machine's OS dialog
   * (null: none), the ledger of remembered approvals (where `secret policy` revokes them),
   * and whether this process remembers approvals at all (only a serving one does).
   */
  approval?: { os: ApprovalDriver | null; ledger?: ApprovalLedger; remember?: boolean };
}

/** What `status` shows from the core (Broker.status). */
export interface BrokerStatus {
  store: { backend: StoreBackend; description: string };
  /** User secret names, sorted. */
  secrets: string[];
  /** Remote MCP servers logged in to (proxy, connect): the server and the token's expiry. */
  remoteLogins: { upstream: string; expiresAt?: number }[];
  /** Provider ids with a client saved by `provider add`. */
  savedProviders: string[];
  tokenSigning: "HS256 (JWT_SECRET)" | "ES256 (key pair kept in the store)";
}

/** Events of changes the CLI makes outside the broker and audits through Broker.auditChange. */
export const OUTSIDE_CHANGE_EVENTS: ReadonlySet<OutsideChangeEvent> = new Set(["install", "uninstall", "proxy-start", "proxy-stop", "migrate", "approvals-clear", "remote-login", "remote-logout"] as const);
export type OutsideChangeEvent = Extract<AuditEvent, "install" | "uninstall" | "proxy-start" | "proxy-stop" | "migrate" | "approvals-clear" | "remote-login" | "remote-logout">;

/** A change made outside the broker: its event, and what it changed (never a value). */
export interface OutsideChange {
  event: OutsideChangeEvent;
  /** A secret name, when the change concerns one. */
  name?: string;
  /** What was changed: an MCP client app (install), a remote server's origin (proxy, connect), "file → keychain" (migrate). */
  target?: string;
  provider?: string;
}

/** A login's result, with the token's remaining lifetime in seconds (absent: the provider gave none). */
export type BrokerLoginResult = LoginResult & { expiresIn?: number };

/** A login request; timeout and port default to the broker's login settings. */
export type BrokerLoginRequest = Omit<LoginRequest, "timeoutMs"> & { timeoutMs?: number };


/** Who is asking: the MCP client's name from `initialize`, "cli" or "run"; and how to ask the user. */
export interface CallContext {
  client?: string;
  /**
   * The caller's own way to ask the user about a `confirm` secret (MCP form elicitation, or
   * the terminal for `secret get`); the OS dialog comes from the broker's deps.
   */
  confirm?: ApprovalDriver;
  /**
   * The user is the caller (a CLI command), not an agent: only then may a `deny` or
   * `confirm` secret be replaced or deleted (checkAgentChange). Absent means an agent.
   */
  user?: boolean;
}

/** Metadata set with a value. Policy and hosts left out keep the previous ones. */
export interface SecretMeta {
  tags?: Record<string, string>;
  policy?: Policy;
  hosts?: string[];
}

/** A listed secret: metadata only, with the effective policy spelled out. */
export type ListedSecret = SecretEntry & { policy: Policy };

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

/** Throws INVALID_INPUT unless `provider` looks like a provider id (the OAuth side knows which exist). */
function checkProviderId(provider: string): void {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(provider)) throw new BrokerError("INVALID_INPUT", `'${provider.slice(0, 64)}' is not a provider id (lowercase letters, digits and '-').`);
}

/**
 * The credential core shared by the MCP tools and the CLI. References live only in
 * this object (this process); secrets and revocations live in the injected store.
 */
export class Broker {
  readonly #refs = new Map<string, LiveReference>();
  readonly #fingerprints: Fingerprinter;
  readonly #approvals: Approvals;
  #tokens: Promise<TokenService> | null = null;
  /** Private: every caller goes through the audited calls below, never around them to the store. */
  readonly #deps: BrokerDeps;

  constructor(deps: BrokerDeps) {
    this.#deps = deps;
    this.#fingerprints = new Fingerprinter(deps);
    this.#approvals = new Approvals({ clock: deps.clock, os: deps.approval?.os ?? null, ledger: deps.approval?.ledger, remember: deps.approval?.remember });
  }

  /**
   * Stores (or replaces) a secret; resolves once the write is durable. A replaced value
   * keeps its policy (with its approval settings) and hosts unless new ones are given, so
   * replacing a value (e.g. through store_secret) never relaxes a `confirm` or `deny` policy
   * the user set. Approvals remembered for the old value are forgotten.
   */
  async storeSecret(name: string, value: string, meta: SecretMeta | undefined, ctx: CallContext): Promise<void> {
    await this.#audited({ event: "store", name, client: ctx.client, ...(meta?.policy ? { policy: meta.policy } : {}) }, async (entry, intent) => {
      checkSecretName(name);
      checkSecretValue(value);
      if (meta?.tags) checkTags(meta.tags);
      if (meta?.policy !== undefined) checkPolicy(meta.policy);
      const hosts = meta?.hosts ? normalizeHosts(meta.hosts) : undefined;
      const now = this.#deps.clock.now();
      const prev = await this.#deps.store.get(name);
      if (prev) checkAgentChange(prev.policy, { name, action: "replace", user: ctx.user });
      const policy = meta?.policy ?? prev?.policy;
      const approval = policy === "confirm" && policy === prev?.policy ? prev.approval : undefined;
      const keptHosts = hosts ?? prev?.hosts;
      // Everything that can fail before the change does (the fingerprint key may have to be
      // created; the intent line written), so a refusal means "nothing stored".
      entry.fp = await this.#fingerprints.of(value);
      await intent();
      await this.#deps.store.set(name, {
        value,
        ...(meta?.tags ? { tags: meta.tags } : {}),
        ...(policy ? { policy } : {}),
        ...(approval ? { approval } : {}),
        ...(keptHosts?.length ? { hosts: keptHosts } : {}),
        createdAt: prev?.createdAt ?? now,
        updatedAt: now,
      });
      if (prev) this.#approvals.forget(name);
    });
  }

  /**
   * Changes a secret's resolve policy (CLI only: an agent must not relax its own limits);
   * `approval` (via, remember) applies to `confirm` only and is replaced as a whole. Every
   * approval remembered for the secret is forgotten, in every broker process.
   */
  async setPolicy(name: string, policy: Policy, ctx: CallContext, approval?: ApprovalSettings): Promise<void> {
    await this.#audited({ event: "policy", name, policy, client: ctx.client }, async (_entry, intent) => {
      checkSecretName(name);
      checkPolicy(policy);
      if (approval && policy !== "confirm") throw new BrokerError("INVALID_INPUT", `--via and --remember apply to policy 'confirm' only, not '${policy}'.`);
      if (approval) checkApprovalSettings(approval);
      const record = await this.#deps.store.get(name);
      if (!record) throw this.#notFound(name);
      const { approval: _old, ...rest } = record;
      const keep = approval && (approval.via !== "any" || approval.rememberSeconds !== undefined) ? { approval } : {};
      await intent();
      await this.#deps.store.set(name, { ...rest, policy, ...keep, updatedAt: this.#deps.clock.now() });
      this.#approvals.forget(name);
    });
  }


  /** Issues a single-use reference to a stored secret, valid for `ttlSeconds`. */
  async issueReference(name: string, purpose: string, ttlSeconds: number | undefined, ctx: CallContext): Promise<SecretReference> {
    return this.#audited({ event: "get", name, purpose, client: ctx.client }, async (entry) => {
      const ttl = referenceTtl(ttlSeconds);
      checkSecretName(name);
      checkPurpose(purpose);
      // `deny` is refused here already, so the agent learns it before asking for the value.
      if ((await this.#usableRecord(name)).policy === "deny") throw policyDenied(name);
      this.#sweepReferences();
      const id = `ref_${randomBytes(24).toString("base64url")}`;
      const expiresAt = this.#deps.clock.now() + ttl * 1000;
      this.#refs.set(id, { name, purpose, expiresAt });
      entry.reference = id;
      return { id, name, purpose, expiresAt, expiresIn: ttl };
    });
  }

  /**
   * Returns the value behind a reference and consumes the reference. The secret's policy
   * is checked now (it may have changed since get_secret): `deny` refuses, `confirm` asks
   * the user through `ctx.confirm` and refuses unless they accept.
   */
  async resolveReference(id: string, ctx: CallContext): Promise<string> {
    const ref = this.#refs.get(id);
    return this.#audited({ event: "resolve", reference: id, name: ref?.name, purpose: ref?.purpose, client: ctx.client }, async (entry) => {
      if (!ref) {
        throw new BrokerError("REFERENCE_NOT_FOUND", "Unknown secret reference, or one already used (references are single-use). Call get_secret for a new reference.");
      }
      // Single use: the reference is gone before the value is read, whatever happens next.
      this.#refs.delete(id);
      if (this.#deps.clock.now() >= ref.expiresAt) {
        throw new BrokerError("REFERENCE_EXPIRED", `The reference to '${ref.name}' has expired. Call get_secret again (ttl_seconds sets how long a reference lives).`);
      }
      const record = await this.#usableRecord(ref.name);
      await enforcePolicy(record, { name: ref.name, purpose: ref.purpose, client: ctx.client, confirm: ctx.confirm, approvals: this.#approvals }, entry);
      entry.fp = await this.#fingerprints.of(record.value);
      return record.value;
    });
  }

  /** Reads a secret directly (CLI `secret get`, for the human at the terminal); policies apply as for agents. */
  async readSecret(name: string, ctx: CallContext): Promise<string> {
    const purpose = "cli secret get";
    return this.#audited({ event: "resolve", name, purpose, client: ctx.client }, async (entry) => {
      checkSecretName(name);
      const record = await this.#usableRecord(name);
      // No purpose in the question: the user at the terminal asked, not an agent.
      await enforcePolicy(record, { name, client: ctx.client, confirm: ctx.confirm, approvals: this.#approvals }, entry);
      entry.fp = await this.#fingerprints.of(record.value);
      return record.value;
    });
  }

  /**
   * Returns a secret's value for `run` to put into a child process's environment as
   * `variable`. No policy check: an injected value goes to the tool server, never to the
   * agent, which is why `deny` secrets remain usable here.
   */
  async injectSecret(name: string, variable: string, ctx: CallContext & { purpose: string }): Promise<string> {
    return this.#audited({ event: "inject", name, env: variable, purpose: ctx.purpose, client: ctx.client }, async (entry) => {
      checkSecretName(name);
      const record = await this.#usableRecord(name);
      entry.fp = await this.#fingerprints.of(record.value);
      return record.value;
    });
  }

  /** Names and metadata of user secrets, sorted by name, with the effective policy. Never values. */
  async listSecrets(): Promise<ListedSecret[]> {
    const all = await this.#deps.store.list();
    return all
      .filter((e) => !isInternalName(e.name))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((e) => ({ ...e, policy: e.policy ?? "allow" }));
  }

  /** Deletes a secret; references to it stop resolving. An agent cannot delete a `deny` or `confirm` secret. */
  async deleteSecret(name: string, ctx: CallContext): Promise<void> {
    await this.#audited({ event: "delete", name, client: ctx.client }, async (_entry, intent) => {
      checkSecretName(name);
      const record = await this.#deps.store.get(name);
      if (!record) throw this.#notFound(name);
      if (ctx.user !== true) checkAgentChange(record.policy, { name, action: "delete" });
      await intent();
      if (!(await this.#deps.store.delete(name))) throw this.#notFound(name);
      for (const [id, r] of this.#refs) if (r.name === name) this.#refs.delete(id);
      this.#approvals.forget(name);
    });
  }

  async mintToken(input: { provider: MintProvider; scopes: string[]; resource?: string; ttlSeconds?: number }, ctx: CallContext) {
    return this.#audited({ event: "mint", provider: input.provider, client: ctx.client }, async (entry) => {
      checkMintRequest(input);
      const t = await (await this.#tokenService()).mint(input);
      entry.tokenId = t.tokenId;
      return t;
    });
  }

  async revokeToken(tokenId: string, ctx: CallContext) {
    return this.#audited({ event: "revoke", client: ctx.client }, async (entry, intent) => {
      await intent();
      const r = await (await this.#tokenService()).revoke(tokenId);
      entry.tokenId = r.tokenId;
      return r;
    });
  }

  async verifyToken(token: string) {
    return (await this.#tokenService()).verify(token);
  }

  /** Counts for get_broker_stats. */
  async stats(): Promise<{ activeTokens: number; activeReferences: number; storedSecrets: number }> {
    this.#sweepReferences();
    const activeTokens = this.#tokens ? (await this.#tokens).activeCount() : 0;
    return { activeTokens, activeReferences: this.#refs.size, storedSecrets: (await this.listSecrets()).length };
  }

  /** The public JSON Web Key Set (RFC 7517) that verifies the broker's ES256 tokens (`token jwks`). */
  async jwks() {
    return (await this.#tokenService()).jwks();
  }

  /**
   * What `status` reports from the core: the store backend, user secret names, remote MCP
   * logins (server and expiry: never a token), the providers saved with `provider add` and
   * how tokens are signed. Reads metadata only, so nothing is audited.
   */
  async status(): Promise<BrokerStatus> {
    const all = await this.#deps.store.list();
    return {
      store: { backend: this.#deps.store.backend, description: this.#deps.store.description },
      secrets: (await this.listSecrets()).map((e) => e.name),
      remoteLogins: all
        .filter((e) => e.name.startsWith(REMOTE_TOKEN_PREFIX) && e.tags?.upstream)
        .map((e) => ({ upstream: e.tags!.upstream!, ...(e.expiresAt !== undefined ? { expiresAt: e.expiresAt } : {}) })),
      savedProviders: await savedProviderIds(this.#deps.store),
      tokenSigning: this.#deps.jwtSecret ? "HS256 (JWT_SECRET)" : "ES256 (key pair kept in the store)",
    };
  }

  /** The clients saved with `provider add`, by provider id: client id and settings, never the secret. */
  async savedProviders(): Promise<SavedProvider[]> {
    const out: SavedProvider[] = [];
    for (const provider of await savedProviderIds(this.#deps.store)) {
      const s = await loadProviderSettings(this.#deps.store, provider);
      if (!s) continue;
      const { clientSecret, ...rest } = s;
      out.push({ provider, ...rest, hasSecret: clientSecret !== undefined && clientSecret !== "" });
    }
    return out;
  }

  /**
   * Saves an OAuth client for `provider` (`provider add`), replacing earlier settings. Audited
   * like every change (event `provider-add`, an intent line first); the line names the
   * provider, never the client secret.
   */
  async saveProviderSettings(provider: string, settings: ProviderSettings, ctx: CallContext): Promise<void> {
    await this.#audited({ event: "provider-add", provider, client: ctx.client }, async (_entry, intent) => {
      checkProviderId(provider);
      const parsed = ProviderSettingsSchema.safeParse(settings);
      if (!parsed.success) {
        const fields = parsed.error.issues.map((i) => i.path.join(".") || "settings").join(", ");
        throw new BrokerError("INVALID_INPUT", `Invalid client settings for ${provider} (${fields}): the client id must be 1 to 1024 characters, URLs and hosts at most 2048 and 253.`);
      }
      const name = providerSettingsName(provider);
      const prev = await this.#deps.store.get(name);
      const now = this.#deps.clock.now();
      await intent();
      await this.#deps.store.set(name, { value: JSON.stringify(parsed.data), provider, createdAt: prev?.createdAt ?? now, updatedAt: now });
    });
  }

  /** Forgets the client saved for `provider` (`provider rm`, audited as `provider-rm`); NOT_FOUND when there is none. */
  async removeProviderSettings(provider: string, ctx: CallContext): Promise<void> {
    await this.#audited({ event: "provider-rm", provider, client: ctx.client }, async (_entry, intent) => {
      checkProviderId(provider);
      const name = providerSettingsName(provider);
      const missing = () => new BrokerError("NOT_FOUND", `No saved client for ${provider}. See: mcp-credentials-broker provider list`);
      if (!(await this.#deps.store.get(name))) throw missing();
      await intent();
      if (!(await this.#deps.store.delete(name))) throw missing();
    });
  }

  /**
   * Audits a change the broker does not make itself — an MCP client's config edited by
   * `install`/`uninstall`, a background proxy started or stopped, secrets migrated between
   * stores: an intent line is written (and waited for) before `fn` runs, then its outcome, as
   * for the broker's own changes (see #audited). `target` says what was changed (an app name,
   * a server origin): never a value.
   */
  async auditChange<T>(change: OutsideChange, ctx: CallContext, fn: () => Promise<T>): Promise<T> {
    const { event, name, target, provider } = change;
    if (!OUTSIDE_CHANGE_EVENTS.has(event)) {
      throw new BrokerError("INVALID_INPUT", `'${String(event).slice(0, 64)}' is not an event of a change made outside the broker (${[...OUTSIDE_CHANGE_EVENTS].join(", ")}).`);
    }
    return this.#audited({ event, name, target, provider, client: ctx.client }, async (_entry, intent) => {
      await intent();
      return fn();
    });
  }

  /** The token service, loaded on first use so start-up does not pay for jose. */
  #tokenService(): Promise<TokenService> {
    this.#tokens ??= import("./jwt.ts").then((m) => new m.TokenService(this.#deps)).catch((e: unknown) => {
      this.#tokens = null;
      throw e;
    });
    return this.#tokens;
  }

  /**
   * Why the audit log stopped, if it did. After an operation that succeeded, this means its
   * outcome line was lost (its intent line, written before the change, is in the log).
   */
  auditFailure(): BrokerError | null {
    return this.#deps.audit.failure;
  }

  async close(): Promise<void> {
    this.#refs.clear();
    await this.#deps.store.close();
    await this.#deps.audit.close();
  }

  #sweepReferences(): void {
    const now = this.#deps.clock.now();
    for (const [id, r] of this.#refs) if (r.expiresAt <= now) this.#refs.delete(id);
  }

  /**
   * The one place a secret's value is read for use (get, resolve, `secret get`, `run`): the
   * record — an OAuth token refreshed first when it expires within 60 s (docs/security.md §Refresh skew) — or
   * NOT_FOUND, LOGIN_REQUIRED for a token that expired and cannot be refreshed, or
   * SECRET_EXPIRED for any other value past its `expiresAt`.
   */
  async #usableRecord(name: string): Promise<SecretRecord> {
    const record = await this.#deps.store.get(name);
    if (!record) throw this.#notFound(name);
    const now = this.#deps.clock.now();
    if (record.oauth) {
      if (!needsRefresh(record, now)) return record;
      const canRefresh = record.oauth.refreshToken !== undefined && !record.oauth.loginRequired && this.#deps.oauth !== undefined;
      if (canRefresh) return (await this.#deps.oauth!()).refresh(name, record);
      if (isUnusable(record, now)) {
        throw loginRequired(name, record, record.oauth.loginRequired ? "was rejected by the provider (its refresh token is no longer valid)" : "has expired and cannot be refreshed");
      }
      // Still valid for a few seconds: better than nothing.
      return record;
    }
    if (record.expiresAt !== undefined && now >= record.expiresAt) {
      const again = record.provider ? `Log in again: \`mcp-credentials-broker login ${record.provider} --name ${name}\`` : `Store a fresh value: \`mcp-credentials-broker secret set ${name}\``;
      throw new BrokerError("SECRET_EXPIRED", `The secret '${name}' expired at ${new Date(record.expiresAt).toISOString()} and cannot be refreshed. ${again}.`);
    }
    return record;
  }

  /**
   * Logs in with an OAuth provider and stores the token (and its refresh token) under
   * `req.secretName`; `expiresIn` is the token's remaining lifetime in seconds, by the broker's clock.
   */
  async login(req: BrokerLoginRequest, ui: LoginUi, ctx: CallContext): Promise<BrokerLoginResult> {
    return this.#audited({ event: "login", name: req.secretName, provider: req.provider, client: ctx.client }, async (_entry, intent) => {
      checkSecretName(req.secretName);
      if (ctx.user !== true) {
        // Signing in again to the token's own provider keeps the record (and its policy);
        // anything else under a protected name would replace the user's secret.
        const existing = await this.#deps.store.get(req.secretName);
        if (existing && existing.oauth?.provider !== req.provider) checkAgentChange(existing.policy, { name: req.secretName, action: "replace" });
      }
      const defaults = this.#deps.loginDefaults;
      const full: LoginRequest = { ...req, timeoutMs: req.timeoutMs ?? defaults?.timeoutMs ?? 5 * 60_000, port: req.port ?? defaults?.port };
      await intent();
      const result = await (await this.#oauthPort()).login(full, ui);
      const exp = result.record.expiresAt;
      return { ...result, ...(exp !== undefined ? { expiresIn: Math.max(0, Math.floor((exp - this.#deps.clock.now()) / 1000)) } : {}) };
    });
  }

  /**
   * Deletes a secret; for an OAuth token, first revokes it at the provider (RFC 7009) when
   * the provider has a revocation endpoint. The secret is deleted even if revocation fails.
   */
  async logout(name: string, ctx: CallContext): Promise<{ revocation: RevocationOutcome | "not-oauth" }> {
    return this.#audited({ event: "logout", name, client: ctx.client }, async (_entry, intent) => {
      checkSecretName(name);
      const record = await this.#deps.store.get(name);
      if (!record) throw this.#notFound(name);
      await intent();
      const revocation = record.oauth ? await (await this.#oauthPort()).revoke(record) : ("not-oauth" as const);
      await this.#deps.store.delete(name);
      for (const [id, r] of this.#refs) if (r.name === name) this.#refs.delete(id);
      this.#approvals.forget(name);
      return { revocation };
    });
  }

  #oauthPort(): Promise<OAuthPort> {
    if (!this.#deps.oauth) throw new BrokerError("BACKEND_UNAVAILABLE", "OAuth login is not available in this broker configuration.");
    return this.#deps.oauth();
  }


  #notFound(name: string): BrokerError {
    return new BrokerError("NOT_FOUND", `No secret named '${name}'. Store it first (store_secret, or \`mcp-credentials-broker secret set ${name}\`), or call list_secrets to see the names.`);
  }

  /** Queues an audit line without waiting; a failed write makes every later operation fail (fail closed). */
  #recordLater(line: AuditEntry): void {
    this.#deps.audit.record(line).catch(() => {
      /* the log keeps the failure and rejects the next record */
    });
  }

  /**
   * Runs `fn` and appends one audit line with its outcome; `fn` may add ids to the entry.
   *
   * An operation that changes something (store, policy, delete, revoke, login, logout) calls
   * `intent()` just before the change: that writes an `"outcome":"intent"` line and waits for
   * it, so a change is made only once the log holds it, and a log that cannot be written
   * (full disk, read-only) refuses the change with nothing done — never "stored, but exit 1".
   * The outcome line follows in the next batch; should it be lost (the process killed, the disk
   * full by then), the intent line is there, and the store says what happened.
   */
  async #audited<T>(base: Omit<AuditEntry, "outcome">, fn: (entry: Omit<AuditEntry, "outcome">, intent: () => Promise<void>) => Promise<T>): Promise<T> {
    // Names, purposes and client names are capped so a hostile 1 MB input cannot bloat the log.
    const entry = { ...base, name: base.name?.slice(0, MAX_NAME_LENGTH), purpose: base.purpose?.slice(0, MAX_PURPOSE_LENGTH), client: base.client?.slice(0, 256), target: base.target?.slice(0, 512), provider: base.provider?.slice(0, 64) };
    this.#deps.audit.assertWritable();
    const intent = () => this.#deps.audit.record(dropUndefined({ ...entry, outcome: "intent" as const }), { urgent: true });
    let result: T;
    try {
      result = await fn(entry, intent);
    } catch (e) {
      this.#recordLater(dropUndefined({ ...entry, outcome: "error", error: e instanceof BrokerError ? e.code : "INTERNAL" }));
      throw e;
    }
    const line = dropUndefined({ ...entry, outcome: "ok" as const });
    // A value or a credential is handed out only once its audit line is written; a failed
    // write fails the call. Other lines are written in the batch just after the answer.
    if (HANDS_OUT_A_CREDENTIAL.has(entry.event)) await this.#deps.audit.record(line, { urgent: true });
    else this.#recordLater(line);
    return result;
  }
}

/** Events whose operation hands a value or a credential to the caller. */
const HANDS_OUT_A_CREDENTIAL: ReadonlySet<AuditEntry["event"]> = new Set(["resolve", "inject", "mint"]);

/** JSON drops undefined fields anyway; dropping them here keeps in-memory entries equal to the lines written. */
function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
