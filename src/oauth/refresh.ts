// Refreshes stored OAuth tokens (RFC 6749 §6) with one request per expiry, however many
// callers and broker processes race: in-process single-flight, then a lock file shared by
// every process, and a generation number so a process that lost the race reads the
// winner's token instead of spending the (rotated, now revoked) refresh token again.
import { createHash } from "node:crypto";
import * as oauth from "oauth4webapi";
import type { LockOptions } from "../files/lock-file.ts";
import type { OAuthPart, SecretRecord, Store } from "../core/store.ts";
import type { OAuthDeps } from "./oauth-deps.ts";
import { translateOAuthError } from "./errors.ts";
import { isUnusable, loginCommand, loginRequired, needsRefresh } from "../core/expiry.ts";
import { storedLoginContext } from "./grant-context.ts";
import { recordFromRefresh } from "./token-record.ts";

export type WithLock = <T>(name: string, fn: () => Promise<T>, opts?: LockOptions) => Promise<T>;

export interface RefreshDeps extends OAuthDeps {
  store: Store;
  withLock: WithLock;
  /** The configured client secret for this provider and client id (env or `provider add`), if any. */
  clientSecretFor(provider: string, clientId: string): Promise<string | undefined>;
}

/** Lock file name guarding refreshes (and login writes) of one secret. */
export function refreshLockName(secretName: string): string {
  return `refresh-${createHash("sha256").update(secretName).digest("hex").slice(0, 16)}`;
}

/** Waiting for another process's refresh: its request has a 30 s timeout, so this is ample. */
export const REFRESH_LOCK: LockOptions = { timeoutMs: 45_000, staleMs: 60_000 };

type OAuthRecord = SecretRecord & { oauth: OAuthPart };

/** Refreshes OAuth tokens for one broker process; share one instance per process. */
export class TokenRefresher {
  readonly #inflight = new Map<string, Promise<SecretRecord>>();

  constructor(private readonly deps: RefreshDeps) {}

  /**
   * Returns a non-expired record for `name`, refreshing under the lock when `seen` is within
   * the skew of its expiry — or, with `force`, whenever `seen` is still the stored generation
   * (a resource server answered 401 to it). Concurrent calls for one name share one refresh.
   */
  refresh(name: string, seen: SecretRecord, opts: { force?: boolean } = {}): Promise<SecretRecord> {
    let p = this.#inflight.get(name);
    if (!p) {
      p = this.deps.withLock(refreshLockName(name), () => this.#refreshLocked(name, seen, opts.force === true), REFRESH_LOCK).finally(() => this.#inflight.delete(name));
      this.#inflight.set(name, p);
    }
    return p;
  }

  async #refreshLocked(name: string, seen: SecretRecord, force: boolean): Promise<SecretRecord> {
    const now = this.deps.clock.now();
    const current = await this.deps.store.get(name);
    if (!current) return seen;
    // Another process refreshed (or logged in) while we waited for the lock: use its token.
    if (!current.oauth || current.oauth.generation !== seen.oauth?.generation || !(force || needsRefresh(current, now))) {
      if (isUnusable(current, now)) throw loginRequired(name, current, "has expired and cannot be refreshed");
      this.deps.log.debug("oauth: token already refreshed by another caller");
      return current;
    }
    const record = current as OAuthRecord;
    if (!record.oauth.refreshToken || record.oauth.loginRequired) {
      if (isUnusable(record, now)) throw loginRequired(name, record, record.oauth.loginRequired ? "was rejected by the provider (its refresh token is no longer valid)" : "has expired and has no refresh token");
      return record;
    }
    let tokens: oauth.TokenEndpointResponse;
    try {
      tokens = await this.#request(record);
    } catch (e) {
      const err = translateOAuthError(e, "refresh", loginCommand(name, record));
      if (err.code === "LOGIN_REQUIRED") {
        await this.#markLoginRequired(name, record.oauth.generation);
        throw loginRequired(name, record, "was rejected by the provider (invalid_grant: the refresh token was revoked or expired)");
      }
      // A transient failure: a token that has not expired yet is still worth handing out.
      if (!isUnusable(record, this.deps.clock.now())) {
        this.deps.log.warn(`refreshing '${name}' failed (${err.code}); using the current token until it expires`);
        return record;
      }
      throw err;
    }
    const next = recordFromRefresh(record, tokens, this.deps.clock.now());
    await this.deps.store.set(name, next);
    this.deps.log.debug(`oauth: refreshed '${name}' to generation ${next.oauth?.generation}`);
    return next;
  }

  async #request(record: OAuthRecord): Promise<oauth.TokenEndpointResponse> {
    const part = record.oauth;
    const secret = part.authMethod === "none" ? undefined : await this.deps.clientSecretFor(part.provider, part.clientId);
    const { as, endpoints, client, auth, options } = storedLoginContext(part, secret, this.deps.fetch);
    const opts = options(endpoints.token_endpoint!);
    // RFC 8707 §2.2: the refresh asks for a token for the same resource.
    const res = await oauth.refreshTokenGrantRequest(as, client, auth, part.refreshToken!, { ...opts, ...(part.resource ? { additionalParameters: { resource: part.resource } } : {}) });
    return oauth.processRefreshTokenResponse(as, client, res);
  }

  /**
   * invalid_grant is terminal (RFC 6749 §5.2): drop the refresh token of the generation that
   * failed — and only that one, never a newer login's or refresh's.
   */
  async #markLoginRequired(name: string, generation: number): Promise<void> {
    const cur = await this.deps.store.get(name);
    if (!cur?.oauth || cur.oauth.generation !== generation) return;
    const { refreshToken: _dropped, ...part } = cur.oauth;
    await this.deps.store.set(name, { ...cur, updatedAt: this.deps.clock.now(), oauth: { ...part, loginRequired: true } });
  }
}
