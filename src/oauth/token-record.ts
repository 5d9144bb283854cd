// Turns token endpoint responses into stored records: the access token as the value, the
// refresh token and what refresh needs in the record's `oauth` part (never handed out).
import type * as oauth from "oauth4webapi";
import type { OAuthPart, SecretRecord } from "../core/store.ts";
import { serverMetadata, standInIssuer, type ServerMetadata } from "./discovery.ts";
import type { TokenGrant } from "./authorization-code.ts";
import type { ResolvedProvider } from "./providers.ts";

/** Epoch ms when a token with `expires_in` (RFC 6749 §5.1, seconds) expires; undefined when it did not say. */
function expiry(tokens: oauth.TokenEndpointResponse, now: number): number | undefined {
  return typeof tokens.expires_in === "number" && tokens.expires_in > 0 ? now + tokens.expires_in * 1000 : undefined;
}

/**
 * The record a fresh login stores; its generation is one above whatever it replaces. Signing
 * in again under an existing name keeps what the user set on it — tags, hosts, the resolve
 * policy and its approval settings — so a login started by an agent (start_oauth_flow, which
 * may finish without the user when the provider remembers its consent) cannot turn a
 * `confirm` or `deny` secret into an `allow` one.
 */
export function recordFromGrant(grant: TokenGrant, p: ResolvedProvider, meta: ServerMetadata, now: number, prev: SecretRecord | null): SecretRecord {
  const t = grant.tokens;
  const part: OAuthPart = {
    provider: p.preset.id,
    clientId: p.clientId,
    authMethod: grant.authMethod,
    tokenEndpoint: meta.as.token_endpoint!,
    ...(meta.hasIssuer ? { issuer: meta.as.issuer } : {}),
    ...(p.resource ? { resource: p.resource } : {}),
    ...(meta.as.revocation_endpoint ? { revocationEndpoint: meta.as.revocation_endpoint } : {}),
    ...(t.refresh_token ? { refreshToken: t.refresh_token } : {}),
    tokenType: t.token_type,
    scope: typeof t.scope === "string" ? t.scope : grant.requestedScopes.join(" "),
    generation: (prev?.oauth?.generation ?? 0) + 1,
  };
  const expiresAt = expiry(t, now);
  return {
    value: t.access_token,
    ...(prev?.tags ? { tags: prev.tags } : {}),
    ...(prev?.policy ? { policy: prev.policy } : {}),
    ...(prev?.approval ? { approval: prev.approval } : {}),
    ...(prev?.hosts ? { hosts: prev.hosts } : {}),
    provider: p.preset.id,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    createdAt: prev?.createdAt ?? now,
    updatedAt: now,
    oauth: part,
  };
}

/**
 * The record after a refresh: new access token, the rotated refresh token when one came
 * (RFC 6749 §6: otherwise the old one stays valid), generation + 1.
 */
export function recordFromRefresh(current: SecretRecord & { oauth: OAuthPart }, tokens: oauth.TokenEndpointResponse, now: number): SecretRecord {
  const expiresAt = expiry(tokens, now);
  const { expiresAt: _old, ...rest } = current;
  return {
    ...rest,
    value: tokens.access_token,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    updatedAt: now,
    oauth: {
      ...current.oauth,
      refreshToken: tokens.refresh_token ?? current.oauth.refreshToken,
      tokenType: tokens.token_type,
      ...(typeof tokens.scope === "string" ? { scope: tokens.scope } : {}),
      generation: current.oauth.generation + 1,
    },
  };
}

/**
 * The authorization server a stored token belongs to: its issuer, or for servers without one
 * (explicit endpoints) the token endpoint's origin — discovery.ts's stand-in.
 */
export function issuerOf(part: OAuthPart): string {
  return part.issuer ?? standInIssuer(part.tokenEndpoint);
}

/**
 * The authorization server a stored login's refresh and revocation go to (issuer binding: only
 * ever the one it came from); its endpoints pass the URL policy again, as anything read from
 * the store does.
 */
export function storedServer(part: OAuthPart): ServerMetadata {
  const as = { issuer: issuerOf(part), token_endpoint: part.tokenEndpoint, ...(part.revocationEndpoint ? { revocation_endpoint: part.revocationEndpoint } : {}) };
  return serverMetadata(as, part.issuer !== undefined);
}
