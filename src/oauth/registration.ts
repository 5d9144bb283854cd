// Dynamic Client Registration (RFC 7591) for servers the user never registered an app with
// (remote MCP servers), and the registration's record in the store.
import * as oauth from "oauth4webapi";
import { z } from "zod";
import { BrokerError } from "../errors.ts";
import type { ClientAuthMethod } from "./client-auth.ts";
import type { ServerMetadata } from "./discovery.ts";
import { translateOAuthError } from "./errors.ts";
import { readBounded, requestOptions, type FetchLike } from "./http.ts";
import { NO_QUIRKS } from "./providers.ts";

/** Largest registration response we read (a client record is well under a KiB). */
const MAX_REGISTRATION_BYTES = 64 * 1024;

/**
 * RFC 7591 §3.2.1 makes `client_secret_expires_at` required with a `client_secret`, and
 * oauth4webapi refuses a response without it. Real servers (and the MCP SDK's) omit it, and
 * the MCP SDK and mcp-remote accept that; the field only says when to re-register, so its
 * absence is read as RFC 7591's "0: does not expire" instead of failing the sign-in.
 */
function tolerateMissingSecretExpiry(fetch: FetchLike): FetchLike {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (res.status !== 201 && res.status !== 200) return res;
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const text = await readBounded(res, MAX_REGISTRATION_BYTES, "The client registration response", URL.canParse(url) ? new URL(url).origin : undefined);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return new Response(text, { status: res.status, headers: res.headers });
    }
    if (body && typeof body === "object" && "client_secret" in body && !("client_secret_expires_at" in body)) (body as Record<string, unknown>).client_secret_expires_at = 0;
    const headers = new Headers(res.headers);
    headers.delete("content-length");
    headers.delete("content-encoding");
    return new Response(JSON.stringify(body), { status: res.status, headers });
  };
}

/** A client registered (or configured) at one issuer. The issuer is part of the record:
 * a registration, and its secret, is only ever used with the issuer it came from. */
export const RegistrationSchema = z.object({
  issuer: z.string(),
  clientId: z.string().min(1),
  clientSecret: z.string().optional(),
  authMethod: z.enum(["client_secret_post", "client_secret_basic", "none"]),
  redirectUris: z.array(z.string()),
});
export type Registration = z.infer<typeof RegistrationSchema>;

/** Whether a stored registration can be used for `issuer` with `redirectUri` (RFC 7591 §2: redirect URIs are part of the registration). */
export function registrationFits(reg: Registration | null, issuer: string, redirectUri: string): reg is Registration {
  return reg !== null && reg.issuer === issuer && reg.redirectUris.includes(redirectUri);
}

/**
 * Registers a native public client (RFC 8252 §8.4: no secret, PKCE) for `redirectUri`.
 * A server that insists on issuing a secret gets it kept with the registration.
 */
export async function registerClient(meta: ServerMetadata, fetch: FetchLike, req: { redirectUri: string; clientName: string }): Promise<Registration> {
  const { as } = meta;
  const endpoint = meta.endpoints.registration_endpoint;
  if (!endpoint) {
    throw new BrokerError("PROVIDER_NOT_CONFIGURED", `The authorization server ${as.issuer} offers no dynamic client registration (RFC 7591). Register a client there with redirect URI ${req.redirectUri} and set CLIENT_ID (and CLIENT_SECRET for a confidential client).`);
  }
  let client: oauth.OmitSymbolProperties<oauth.Client>;
  try {
    const res = await oauth.dynamicClientRegistrationRequest(
      as,
      {
        client_name: req.clientName,
        application_type: "native",
        redirect_uris: [req.redirectUri],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
        // No `scope` (RFC 7591 §2, optional): servers refuse resource scopes they do not list
        // as their own, and the authorization request names the scopes anyway.
      },
      requestOptions(tolerateMissingSecretExpiry(fetch), NO_QUIRKS, endpoint),
    );
    client = await oauth.processDynamicClientRegistrationResponse(res);
  } catch (e) {
    throw translateOAuthError(e, "client registration");
  }
  const secret = typeof client.client_secret === "string" ? client.client_secret : undefined;
  const method = client.token_endpoint_auth_method;
  // RFC 7591 §2: an absent token_endpoint_auth_method means client_secret_basic.
  const authMethod: ClientAuthMethod = !secret ? "none" : method === "client_secret_post" ? "client_secret_post" : "client_secret_basic";
  const redirectUris = Array.isArray(client.redirect_uris) ? (client.redirect_uris as unknown[]).filter((u): u is string => typeof u === "string") : [req.redirectUri];
  return { issuer: as.issuer, clientId: client.client_id, ...(secret ? { clientSecret: secret } : {}), authMethod, redirectUris };
}
