// The token source for one remote MCP server, shared by `proxy` and `connect`: the stored
// login (refreshed before it expires, and once more when the server answers 401),
// discovery (RFC 9728 → RFC 8414 / OIDC, or explicit endpoints), the client (RFC 7591
// registration cached per server, or CLIENT_ID), and the login itself — all through
// src/oauth, with its locks, so many processes share one login and one refresh.
import { BrokerError, isBrokerError } from "../errors.ts";
import type { LoginUi } from "../oauth/context.ts";
import { discoverIssuer, type ServerMetadata } from "../oauth/discovery.ts";
import { isUnusable, needsRefresh } from "../oauth/expiry.ts";
import type { FetchLike } from "../oauth/http.ts";
import { login, type LoginDeps, type LoginMode, type LoginRequest } from "../oauth/login.ts";
import { DEFAULT_CALLBACK_PATH, DEFAULT_CALLBACK_PORT } from "../oauth/loopback.ts";
import { PROVIDERS, type ProviderPreset, type ResolvedProvider } from "../oauth/providers.ts";
import { REFRESH_LOCK, refreshLockName, TokenRefresher } from "../oauth/refresh.ts";
import { registerClient, registrationFits, RegistrationSchema, type Registration } from "../oauth/registration.ts";
import { discoverProtectedResource, resourceMetadataFromChallenge } from "../oauth/resource-metadata.ts";
import { issuerOf } from "../oauth/token-record.ts";
import { parseSafeUrl } from "../oauth/url-policy.ts";
import type { SecretRecord } from "../store/store.ts";
import { checkDiscoveryTarget, type Resolver } from "./address-policy.ts";
import { DEFAULT_REMOTE_SCOPES, remoteNames, type RemoteConfig } from "./config.ts";
import { guardFetch, proxyMode } from "./guarded-fetch.ts";

export interface RemoteDeps extends Omit<LoginDeps, "clientSecretFor"> {
  /** DNS for the address policy (tests never resolve: they use literals). */
  resolve: Resolver;
}

/** What discovery found: the authorization server and the scopes the resource asks for. */
export interface Discovered {
  meta: ServerMetadata;
  /** RFC 9728 `scopes_supported`, when the server published metadata. */
  scopes?: string[];
  /** How the server was found, for `status`. */
  via: "protected resource metadata" | "explicit endpoints" | "server origin";
}

export interface RemoteLoginOptions {
  mode: LoginMode;
  timeoutMs: number;
  /** Loopback callback port (connect); ignored when `redirectUri` is given. */
  port?: number;
  /** The proxy's own PUBLIC_BASE_URL + REDIRECT_PATH, with `callback` receiving it. */
  redirectUri?: string;
  callback?: LoginRequest["callback"];
  presentUrl?: LoginRequest["presentUrl"];
  signal?: AbortSignal;
}

/** What `status` and /oauth/status show: never a token. */
export interface RemoteStatus {
  upstream: string;
  loggedIn: boolean;
  issuer?: string;
  tokenEndpoint?: string;
  clientId?: string;
  expiresAt?: number;
  refreshable: boolean;
  loginRequired: boolean;
  scope?: string;
}

/** The preset a remote server's login runs with: oauth2's, with a fixed callback port (the registration names it). */
function remotePreset(server: URL, scopes: readonly string[]): ProviderPreset {
  return { ...PROVIDERS.oauth2, title: `the authorization server of ${server.host}`, defaultScopes: scopes, loopbackAnyPort: false, redirectHost: "127.0.0.1" };
}

export class RemoteSession {
  readonly names: { token: string; client: string };
  readonly #fetch: FetchLike;
  readonly #refresher: TokenRefresher;
  #record: SecretRecord | null = null;
  #discovered: Promise<Discovered> | null = null;
  /** The `resource_metadata` URL of the last 401 challenge. */
  #challenge: string | undefined;

  constructor(
    readonly cfg: RemoteConfig,
    private readonly deps: RemoteDeps,
  ) {
    this.names = remoteNames(cfg);
    this.#fetch = guardFetch(deps.fetch, cfg.server, deps.resolve, deps.env);
    this.#refresher = new TokenRefresher({ ...deps, fetch: this.#fetch, clientSecretFor: (_p, id) => this.#clientSecret(id) });
  }

  /** The login deps with the guarded fetch and this server's client secret. */
  #loginDeps(): LoginDeps {
    return { ...this.deps, fetch: this.#fetch, clientSecretFor: (_p, id) => this.#clientSecret(id) };
  }

  async #clientSecret(clientId: string): Promise<string | undefined> {
    if (this.cfg.client?.id === clientId) return this.cfg.client.secret;
    const reg = await this.#registration();
    return reg?.clientId === clientId ? reg.clientSecret : undefined;
  }

  async #registration(): Promise<Registration | null> {
    const r = await this.deps.store.get(this.names.client);
    if (!r) return null;
    try {
      return RegistrationSchema.parse(JSON.parse(r.value));
    } catch {
      return null;
    }
  }

  /** Notes a 401's `WWW-Authenticate` (RFC 9728 §5.1) for discovery. */
  noteChallenge(header: string | null): void {
    const url = resourceMetadataFromChallenge(header);
    if (url) this.#challenge = url;
  }

  /** Discovery, once per session unless `fresh` (after a 401 the metadata may have changed). */
  discover(fresh = false): Promise<Discovered> {
    if (fresh || !this.#discovered) {
      this.#discovered = this.#discover();
      this.#discovered.catch(() => (this.#discovered = null));
    }
    return this.#discovered;
  }

  async #discover(): Promise<Discovered> {
    const { cfg } = this;
    if (cfg.endpoints) {
      const issuer = cfg.endpoints.issuer ?? new URL(cfg.endpoints.token).origin;
      return { meta: { as: { issuer, authorization_endpoint: cfg.endpoints.authorization, token_endpoint: cfg.endpoints.token }, hasIssuer: cfg.endpoints.issuer !== undefined }, via: "explicit endpoints" };
    }
    if (!this.#challenge) await this.#probe();
    const prm = await discoverProtectedResource(cfg.server, this.#fetch, { metadataUrl: this.#challenge, probePath: cfg.probePath });
    // MCP authorization (2025-03-26): without RFC 9728 metadata the server's origin is the issuer.
    const issuerUrl = prm?.authorizationServers[0] ?? cfg.server.origin;
    const issuer = parseSafeUrl(issuerUrl, "authorization server");
    const proxy = proxyMode(this.deps.env);
    await checkDiscoveryTarget(issuer, cfg.server, this.deps.resolve, "authorization server", proxy);
    // The MCP spec asks for RFC 8414 first, then OpenID Connect Discovery.
    const as = await discoverIssuer(issuer, this.#fetch, ["oauth2", "oidc"]);
    for (const f of ["authorization_endpoint", "token_endpoint", "registration_endpoint"] as const) {
      const u = as[f];
      if (typeof u === "string") await checkDiscoveryTarget(parseSafeUrl(u, f.replace(/_/g, " ")), cfg.server, this.deps.resolve, f.replace(/_/g, " "), proxy);
    }
    return { meta: { as, hasIssuer: true }, ...(prm?.scopesSupported ? { scopes: prm.scopesSupported } : {}), via: prm ? "protected resource metadata" : "server origin" };
  }

  /** An unauthenticated request to the server, for its 401 challenge. */
  async #probe(): Promise<void> {
    try {
      const res = await this.#fetch(this.cfg.server.href, { method: "GET", headers: { accept: "application/json, text/event-stream" }, signal: AbortSignal.timeout(10_000) });
      await res.body?.cancel();
      if (res.status === 401) this.noteChallenge(res.headers.get("www-authenticate"));
    } catch (e) {
      // An address refused by policy, or a server that cannot be reached at all: no metadata will come either.
      if (isBrokerError(e, "UNSAFE_URL") || isBrokerError(e, "REMOTE_UNREACHABLE")) throw e;
      this.deps.log.debug("remote: probing the server for its challenge failed; trying the well-known metadata");
    }
  }

  async #load(): Promise<SecretRecord | null> {
    return this.deps.store.get(this.names.token);
  }

  /** The access token to send (refreshed first when it is about to expire); null when a login is needed. */
  async accessToken(): Promise<string | null> {
    const now = this.deps.clock.now();
    let rec = this.#record && !needsRefresh(this.#record, now) ? this.#record : await this.#load();
    if (!rec) return null;
    if (needsRefresh(rec, now)) rec = await this.#refresh(rec, false);
    this.#record = rec;
    return rec && !isUnusable(rec, this.deps.clock.now()) ? rec.value : null;
  }

  /**
   * After the server answered 401 to `sent`: a token another process stored meanwhile, else
   * one refresh — only if the server still names the issuer the token came from (issuer
   * binding: a refresh token is never sent to another authorization server). Null: log in.
   */
  async afterUnauthorized(sent: string): Promise<string | null> {
    const stored = await this.#load();
    if (stored && stored.value !== sent && !isUnusable(stored, this.deps.clock.now())) {
      this.#record = stored;
      return stored.value;
    }
    if (!stored?.oauth) return null;
    const { meta } = await this.discover(true);
    if (issuerOf(stored.oauth) !== meta.as.issuer) {
      this.deps.log.warn(`remote: ${this.cfg.server.origin} now names another authorization server; a new login is needed (no stored credential is sent there)`);
      this.#record = null;
      return null;
    }
    const rec = await this.#refresh(stored, true);
    this.#record = rec;
    return rec && rec.value !== sent ? rec.value : null;
  }

  async #refresh(rec: SecretRecord, force: boolean): Promise<SecretRecord | null> {
    try {
      return await this.#refresher.refresh(this.names.token, rec, { force });
    } catch (e) {
      if (isBrokerError(e, "LOGIN_REQUIRED")) return null;
      throw e;
    }
  }

  /** The client for `issuer`: CLIENT_ID, a stored registration that fits, or a new RFC 7591 one. */
  async #client(d: Discovered, redirectUri: string): Promise<Registration> {
    const { as } = d.meta;
    if (this.cfg.client) {
      return { issuer: as.issuer, clientId: this.cfg.client.id, ...(this.cfg.client.secret ? { clientSecret: this.cfg.client.secret } : {}), authMethod: this.cfg.client.secret ? "client_secret_post" : "none", redirectUris: [redirectUri] };
    }
    const stored = await this.#registration();
    // Issuer binding and RFC 7591 §2: a registration made at another issuer, or for another redirect URI, is redone.
    if (registrationFits(stored, as.issuer, redirectUri)) return stored;
    if (!this.cfg.autoRegister) {
      throw new BrokerError("PROVIDER_NOT_CONFIGURED", `No client is registered for ${as.issuer} and AUTO_REGISTER_CLIENT=false. Set CLIENT_ID (and CLIENT_SECRET) for a client registered with redirect URI ${redirectUri}.`);
    }
    const reg = await registerClient(as, this.#fetch, { redirectUri, clientName: "mcp-credentials-broker" });
    const now = this.deps.clock.now();
    await this.deps.store.set(this.names.client, { value: JSON.stringify(reg), provider: "remote", createdAt: now, updatedAt: now });
    this.deps.log.debug(`remote: registered client at ${as.issuer}`);
    return reg;
  }

  /** Logs in (browser, device or paste) and stores the token; other processes waiting for the same login reuse it. */
  async login(ui: LoginUi, opts: RemoteLoginOptions): Promise<SecretRecord> {
    const d = await this.discover(true);
    const scopes = this.cfg.scopes ?? d.scopes ?? [...DEFAULT_REMOTE_SCOPES];
    const redirectUri = opts.redirectUri ?? `http://127.0.0.1:${opts.port ?? DEFAULT_CALLBACK_PORT}${DEFAULT_CALLBACK_PATH}`;
    // Under a lock: several processes starting at once register one client, not one each.
    const reg = await this.deps.withLock(`remote-register-${this.names.client.slice(-24)}`, () => this.#client(d, redirectUri), { timeoutMs: 60_000, staleMs: 90_000 });
    const provider: ResolvedProvider = {
      preset: remotePreset(this.cfg.server, scopes),
      clientId: reg.clientId,
      ...(reg.clientSecret ? { clientSecret: reg.clientSecret } : {}),
      server: { issuer: d.meta.as.issuer, discover: false },
      // RFC 8707 + MCP authorization: the token is asked for this server only.
      resource: this.cfg.server.href,
    };
    const result = await login(
      this.#loginDeps(),
      { provider: "oauth2", secretName: this.names.token, mode: opts.mode, timeoutMs: opts.timeoutMs, port: opts.port, target: { provider, meta: d.meta }, callback: opts.callback, presentUrl: opts.presentUrl, signal: opts.signal },
      ui,
    );
    this.#record = await this.#tagUpstream(result.record);
    return this.#record;
  }

  /** Notes the server URL on the stored login (a tag: never secret), so `status` can list remote logins. */
  async #tagUpstream(rec: SecretRecord): Promise<SecretRecord> {
    const upstream = this.cfg.server.href;
    if (rec.tags?.upstream === upstream) return rec;
    return this.deps.withLock(
      refreshLockName(this.names.token),
      async () => {
        const cur = (await this.deps.store.get(this.names.token)) ?? rec;
        const next = { ...cur, tags: { ...cur.tags, upstream } };
        await this.deps.store.set(this.names.token, next);
        return next;
      },
      REFRESH_LOCK,
    );
  }

  /** Forgets the stored token (the registration stays: it holds no user credential). */
  async logout(): Promise<boolean> {
    this.#record = null;
    return this.deps.store.delete(this.names.token);
  }

  async status(): Promise<RemoteStatus> {
    const r = await this.deps.store.get(this.names.token);
    const reg = await this.#registration();
    const o = r?.oauth;
    return {
      upstream: this.cfg.server.href,
      loggedIn: r !== null && !o?.loginRequired && !isUnusable(r, this.deps.clock.now()),
      ...(o ? { issuer: issuerOf(o), tokenEndpoint: o.tokenEndpoint, clientId: o.clientId } : reg ? { issuer: reg.issuer, clientId: reg.clientId } : {}),
      ...(r?.expiresAt !== undefined ? { expiresAt: r.expiresAt } : {}),
      refreshable: o?.refreshToken !== undefined,
      loginRequired: o?.loginRequired === true,
      ...(o?.scope ? { scope: o.scope } : {}),
    };
  }
}
