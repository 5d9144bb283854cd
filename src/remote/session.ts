// The token source for one remote MCP server, shared by `proxy` and `connect`: the stored
// login (refreshed before it expires, and once more when the server answers 401),
// discovery as the MCP authorization spec (2025-11-25, with its 2025-06-18 and 2025-03-26
// back-compat paths) describes it, the client (pre-registered, a Client ID Metadata
// Document, or RFC 7591 registration cached per server), the scopes (the challenge's, then
// the metadata's, else none), and the login itself — a browser sign-in, or a machine's own
// credentials — all through src/oauth, with its locks, so many processes share one login.
import { BrokerError, isBrokerError } from "../errors.ts";
import type { LoginUi } from "../oauth/oauth-deps.ts";
import { discoverIssuer, findIssuerMetadata, MCP_METADATA_ORDER, serverMetadata, standInIssuer, type ServerMetadata } from "../oauth/discovery.ts";
import { isUnusable, needsRefresh } from "../core/expiry.ts";
import type { FetchLike } from "../oauth/http.ts";
import { loginWithClient, type ClientLoginRequest, type LoginDeps, type LoginMode } from "../oauth/login.ts";
import { DEFAULT_CALLBACK_PORT, loopbackRedirectUri } from "../oauth/loopback.ts";
import { NO_QUIRKS, type LoginProfile, type ResolvedProvider } from "../oauth/providers.ts";
import { REFRESH_LOCK, refreshLockName, TokenRefresher } from "../oauth/refresh.ts";
import { registerClient, registrationFits, RegistrationSchema, type Registration } from "../oauth/registration.ts";
import { discoverProtectedResource, parseChallenge, type Challenge } from "../oauth/resource-metadata.ts";
import { issuerOf, recordFromGrant } from "../oauth/token-record.ts";
import { onOrigin, parseSafeUrl } from "../oauth/url-policy.ts";
import type { SecretRecord } from "../core/store.ts";
import { checkDiscoveryTarget, type Resolver } from "./address-policy.ts";
import { remoteNames, type RemoteConfig } from "./config.ts";
import { guardFetch, proxyMode } from "./guarded-fetch.ts";
import type { MachineClient } from "../oauth/machine-grants.ts";

/** A private key file for private_key_jwt: read when needed, its contents never in a message. */
async function readPrivateKey(path: string): Promise<string> {
  try {
    return await Bun.file(path).text();
  } catch (e) {
    throw new BrokerError("CONFIG_INVALID", `The private key file cannot be read (${(e as { code?: string }).code ?? "error"}). Check PRIVATE_KEY_FILE / --private-key and its permissions.`);
  }
}

/** A sign-in or sign-out at a remote server: what the audit log records (the server's origin, never a token). */
export interface RemoteChange {
  event: "remote-login" | "remote-logout";
  target: string;
}

export interface RemoteDeps extends Omit<LoginDeps, "clientSecretFor"> {
  /** DNS for the address policy (tests never resolve: they use literals). */
  resolve: Resolver;
  /**
   * Audits a change the session makes to the store itself (a token stored by a sign-in or a
   * machine grant, deleted by a sign-out): an intent line before `fn`, the outcome after
   * (src/runtime.ts binds it to Broker.auditChange; docs/security.md §Audit).
   */
  audit?: <T>(change: RemoteChange, fn: () => Promise<T>) => Promise<T>;
}

/** What discovery found: the authorization server and the scopes the resource asks for. */
export interface Discovered {
  meta: ServerMetadata;
  /** RFC 9728 `scopes_supported`, when the server published metadata. */
  scopes?: string[];
  /** The RFC 8707 resource tokens are asked for: the metadata's `resource`, else the server URL. */
  resource: string;
  /** How the server was found, for `status`. */
  via: "protected resource metadata" | "explicit endpoints" | "server origin" | "default endpoints";
}

/** OAuth's scope for refresh tokens (OIDC Core §11), asked for only where the server lists it. */
const OFFLINE_SCOPE = "offline_access";

export interface RemoteLoginOptions {
  mode: LoginMode;
  timeoutMs: number;
  /** Loopback callback port (connect); ignored when `redirectUri` is given. */
  port?: number;
  /** Scopes to ask for instead of the usual choice (a step-up after 403 insufficient_scope). */
  scopes?: string[];
  /** The proxy's own PUBLIC_BASE_URL + REDIRECT_PATH, with `callback` receiving it. */
  redirectUri?: string;
  callback?: ClientLoginRequest["callback"];
  presentUrl?: ClientLoginRequest["presentUrl"];
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

/**
 * Whom a remote server's login signs in to: a plain OAuth server, recorded as provider
 * "oauth2" (as logins stored before; refresh and logout apply no quirks to it), with no
 * scopes or offline scope of its own (the session chooses them: #scopes), no extra
 * authorization parameters, and the callback on a fixed port of 127.0.0.1 (the registration
 * names that redirect URI exactly; RFC 8252 §8.3: a loopback IP literal).
 */
function remoteLoginProfile(server: URL): LoginProfile {
  return { id: "oauth2", title: `the authorization server of ${server.host}`, defaultScopes: [], offlineScope: null, authorizationParams: {}, loopbackAnyPort: false, redirectHost: "127.0.0.1", quirks: NO_QUIRKS };
}

/** What the server's last 401 or 403 challenge said (MCP authorization: the challenge leads). */
interface SeenChallenge extends Challenge {
  /** The server has answered 401: it wants a token (else there is nothing to sign in to). */
  unauthorized: boolean;
}

export class RemoteSession {
  readonly names: { token: string; client: string };
  readonly #fetch: FetchLike;
  readonly #refresher: TokenRefresher;
  #record: SecretRecord | null = null;
  #discovered: Promise<Discovered> | null = null;
  #challenge: SeenChallenge = { unauthorized: false };
  #machineRun: Promise<SecretRecord> | null = null;

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

  /**
   * Notes a 401's or 403's `WWW-Authenticate` (RFC 6750 §3, RFC 9728 §5.1): where the
   * metadata is and which scopes the request needs, for discovery and the next sign-in.
   */
  noteChallenge(header: string | null, status = 401): void {
    const c = parseChallenge(header);
    const metadataChanged = c.resourceMetadata !== undefined && c.resourceMetadata !== this.#challenge.resourceMetadata;
    this.#challenge = {
      unauthorized: this.#challenge.unauthorized || status === 401,
      resourceMetadata: c.resourceMetadata ?? this.#challenge.resourceMetadata,
      // A challenge without scope says nothing about scopes; an earlier one still holds.
      scope: c.scope ?? this.#challenge.scope,
      ...(c.error ? { error: c.error } : {}),
    };
    if (metadataChanged) this.#discovered = null;
  }

  /** Whether tokens come from the machine's own credentials (no browser, no person). */
  get machine(): boolean {
    return this.cfg.grant !== "authorization_code";
  }

  /**
   * After `403 insufficient_scope` (RFC 6750 §3.1): the scopes to sign in again with — the
   * token's and the challenge's — or null when the token already holds every scope the
   * server named (signing in again would loop: MCP authorization, "Step-Up Authorization").
   */
  stepUpScopes(): string[] | null {
    const need = this.#challenge.scope;
    if (!need || need.length === 0) return null;
    const held = (this.#record?.oauth?.scope ?? "").split(" ").filter(Boolean);
    if (need.every((s) => held.includes(s))) return null;
    return [...new Set([...held, ...need])];
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
      const issuer = cfg.endpoints.issuer ?? standInIssuer(cfg.endpoints.token);
      return { meta: serverMetadata({ issuer, authorization_endpoint: cfg.endpoints.authorization.href, token_endpoint: cfg.endpoints.token.href }, cfg.endpoints.issuer !== undefined), resource: cfg.server.href, via: "explicit endpoints" };
    }
    if (!this.#challenge.unauthorized) await this.#probe();
    const proxy = proxyMode(this.deps.env);
    const check = (u: URL, what: string) => checkDiscoveryTarget(u, cfg.server, this.deps.resolve, what, proxy);
    const prm = await discoverProtectedResource(cfg.server, this.#fetch, { metadataUrl: this.#challenge.resourceMetadata, probePath: cfg.probePath });
    let d: Discovered;
    if (prm) {
      // MCP authorization 2025-11-25 / 2025-06-18: RFC 9728 names the authorization server.
      if (prm.authorizationServers.length === 0) throw new BrokerError("OAUTH_INVALID_RESPONSE", `The protected resource metadata of ${cfg.server.origin} names no authorization server (RFC 9728 §2 authorization_servers). Ask the server's operator, or give AUTHORIZATION_ENDPOINT and TOKEN_ENDPOINT.`);
      const issuer = parseSafeUrl(prm.authorizationServers[0]!, "authorization server");
      await check(issuer, "authorization server");
      const as = await discoverIssuer(issuer, this.#fetch, MCP_METADATA_ORDER);
      d = { meta: serverMetadata(as, true), ...(prm.scopesSupported ? { scopes: prm.scopesSupported } : {}), resource: prm.resource, via: "protected resource metadata" };
    } else {
      if (!this.#challenge.unauthorized) {
        throw new BrokerError("PROVIDER_NOT_CONFIGURED", `${cfg.server.origin} did not ask for a sign-in (no 401 and no protected resource metadata): it can be used as it is, with nothing to sign in to.`);
      }
      // MCP authorization 2025-03-26 §2.3: without RFC 9728 metadata the authorization base
      // URL is the server URL without its path; its RFC 8414 metadata, else the default
      // endpoints /authorize, /token and /register there (§2.3.3).
      const base = onOrigin(cfg.server, "/", "authorization server");
      await check(base, "authorization server");
      const as = await findIssuerMetadata(base, this.#fetch, ["oauth2", "oidc"]);
      d = as
        ? { meta: serverMetadata(as, true), resource: cfg.server.href, via: "server origin" }
        : {
            meta: serverMetadata({ issuer: standInIssuer(cfg.server.href), authorization_endpoint: `${cfg.server.origin}/authorize`, token_endpoint: `${cfg.server.origin}/token`, registration_endpoint: `${cfg.server.origin}/register` }, false),
            resource: cfg.server.href,
            via: "default endpoints",
          };
    }
    // The endpoints passed the URL policy when the metadata was built; here their addresses.
    for (const f of ["authorization_endpoint", "token_endpoint", "registration_endpoint"] as const) {
      const u = d.meta.endpoints[f];
      if (u) await check(u, f.replace(/_/g, " "));
    }
    return d;
  }

  /**
   * An unauthenticated MCP request to the server, for its 401 challenge when none was seen yet
   * (a sign-in started from the proxy's /oauth/login). A POST, as MCP clients send: servers
   * may protect only POST (a GET stream is optional in Streamable HTTP).
   */
  async #probe(): Promise<void> {
    try {
      const res = await this.#fetch(this.cfg.server.href, {
        method: "POST",
        headers: { accept: "application/json, text/event-stream", "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: "mcp-credentials-broker-probe", method: "ping" }),
        signal: AbortSignal.timeout(10_000),
      });
      await res.body?.cancel().catch(() => {});
      if (res.status === 401) this.noteChallenge(res.headers.get("www-authenticate"), 401);
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

  /**
   * The client for `issuer`, in the MCP authorization spec's order: a pre-registered one
   * (CLIENT_ID), a Client ID Metadata Document (our https URL as the id, where the server
   * says it fetches them), a stored registration that fits, or a new RFC 7591 registration.
   */
  async #client(d: Discovered, redirectUri: string): Promise<Registration> {
    const { as } = d.meta;
    if (this.cfg.client) {
      return { issuer: as.issuer, clientId: this.cfg.client.id, ...(this.cfg.client.secret ? { clientSecret: this.cfg.client.secret } : {}), authMethod: this.cfg.client.secret ? "client_secret_basic" : "none", redirectUris: [redirectUri] };
    }
    // draft-ietf-oauth-client-id-metadata-document §3: the server fetches the document itself.
    if (this.cfg.clientMetadataUrl && as.client_id_metadata_document_supported === true) {
      return { issuer: as.issuer, clientId: this.cfg.clientMetadataUrl, authMethod: "none", redirectUris: [redirectUri] };
    }
    const stored = await this.#registration();
    // Issuer binding and RFC 7591 §2: a registration made at another issuer, or for another redirect URI, is redone.
    if (registrationFits(stored, as.issuer, redirectUri)) return stored;
    if (!this.cfg.autoRegister || !as.registration_endpoint) {
      throw new BrokerError("PROVIDER_NOT_CONFIGURED", `No client is registered for ${as.issuer}${as.registration_endpoint ? " and AUTO_REGISTER_CLIENT=false" : ", which offers no dynamic client registration (RFC 7591)"}. Register a client there with redirect URI ${redirectUri} and pass --client-id (with CLIENT_SECRET in the environment for a confidential client)${as.client_id_metadata_document_supported === true ? ", or pass --client-metadata-url with an https URL serving your client metadata" : ""}.`);
    }
    const reg = await registerClient(d.meta, this.#fetch, { redirectUri, clientName: "mcp-credentials-broker" });
    const now = this.deps.clock.now();
    await this.deps.store.set(this.names.client, { value: JSON.stringify(reg), provider: "remote", createdAt: now, updatedAt: now });
    this.deps.log.debug(`remote: registered client at ${as.issuer}`);
    return reg;
  }

  /**
   * The scopes of a sign-in (MCP authorization, "Scope Selection Strategy"): SCOPES or the
   * flag when given, else the challenge's `scope`, else the metadata's `scopes_supported`,
   * else none at all; plus offline_access where the authorization server lists it (so a
   * refresh token comes) — never where it does not.
   */
  #scopes(d: Discovered, explicit?: string[]): string[] {
    const base = explicit ?? this.cfg.scopes ?? this.#challenge.scope ?? d.scopes ?? [];
    const out = [...base];
    if (!this.machine && d.meta.as.scopes_supported?.includes(OFFLINE_SCOPE) && !out.includes(OFFLINE_SCOPE)) out.push(OFFLINE_SCOPE);
    return [...new Set(out)];
  }

  /** Logs in (browser, device or paste) and stores the token; other processes waiting for the same login reuse it. */
  async login(ui: LoginUi, opts: RemoteLoginOptions): Promise<SecretRecord> {
    if (this.machine) return this.machineLogin(opts.scopes);
    return this.#audited("remote-login", () => this.#browserLogin(ui, opts));
  }

  async #browserLogin(ui: LoginUi, opts: RemoteLoginOptions): Promise<SecretRecord> {
    const d = await this.discover(true);
    const scopes = this.#scopes(d, opts.scopes);
    const redirectUri = opts.redirectUri ?? loopbackRedirectUri(opts.port ?? DEFAULT_CALLBACK_PORT);
    // Under a lock: several processes starting at once register one client, not one each.
    const reg = await this.deps.withLock(`remote-register-${this.names.client.slice(-24)}`, () => this.#client(d, redirectUri), { timeoutMs: 60_000, staleMs: 90_000 });
    const provider: ResolvedProvider = {
      preset: remoteLoginProfile(this.cfg.server),
      clientId: reg.clientId,
      ...(reg.clientSecret ? { clientSecret: reg.clientSecret } : {}),
      server: { issuer: d.meta.as.issuer, discover: false },
      // RFC 8707 + MCP authorization: the token is asked for this server only.
      resource: d.resource,
    };
    const result = await loginWithClient(
      this.#loginDeps(),
      { provider, meta: d.meta, secretName: this.names.token, scopes, mode: opts.mode, timeoutMs: opts.timeoutMs, port: opts.port, callback: opts.callback, presentUrl: opts.presentUrl, signal: opts.signal },
      ui,
    );
    this.#record = await this.#tagUpstream(result.record);
    return this.#record;
  }

  /**
   * A token from the machine's own credentials, no person involved: the client credentials
   * grant (RFC 6749 §4.4) with a secret or a private key (RFC 7523 §2.2), or the cross-app
   * access flow (an identity provider's ID token exchanged for an identity assertion grant,
   * RFC 8693, then a JWT bearer grant, RFC 7523 §2.1). Serialised with browser logins.
   */
  machineLogin(stepUp?: string[]): Promise<SecretRecord> {
    // Requests that find no token at the same moment share one grant.
    this.#machineRun ??= this.#audited("remote-login", () => this.#machineLogin(stepUp)).finally(() => (this.#machineRun = null));
    return this.#machineRun;
  }

  async #machineLogin(stepUp: string[] | undefined): Promise<SecretRecord> {
    const d = await this.discover(true);
    const scopes = this.#scopes(d, stepUp);
    const grants = await import("../oauth/machine-grants.ts");
    const clientId = this.cfg.client!.id;
    const key = this.cfg.privateKey ? { pem: await readPrivateKey(this.cfg.privateKey.file), alg: this.cfg.privateKey.alg } : undefined;
    const client: MachineClient = key ? { clientId, privateKey: key } : { clientId, ...(this.cfg.client?.secret ? { clientSecret: this.cfg.client.secret } : {}) };
    const opts = { ...(scopes.length > 0 ? { scopes } : {}), resource: d.resource };
    const provider: ResolvedProvider = { preset: remoteLoginProfile(this.cfg.server), clientId, server: { issuer: d.meta.as.issuer, discover: false }, resource: d.resource };
    const record = await this.deps.withLock(
      refreshLockName(this.names.token),
      async () => {
        const grant = this.cfg.grant === "cross_app" ? await grants.crossAppGrant(d.meta, this.#fetch, client, this.cfg.idp!, opts) : await grants.clientCredentialsGrant(d.meta, this.#fetch, client, opts);
        const prev = await this.deps.store.get(this.names.token);
        const rec = recordFromGrant(grant, provider, d.meta, this.deps.clock.now(), prev);
        await this.deps.store.set(this.names.token, rec);
        return rec;
      },
      REFRESH_LOCK,
    );
    this.#record = await this.#tagUpstream(record);
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
    return this.#audited("remote-logout", () => {
      this.#record = null;
      return this.deps.store.delete(this.names.token);
    });
  }

  /** Runs a change to this server's stored token through the audit port, when there is one. */
  #audited<T>(event: RemoteChange["event"], fn: () => Promise<T>): Promise<T> {
    return this.deps.audit ? this.deps.audit({ event, target: this.cfg.server.origin }, fn) : fn();
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
