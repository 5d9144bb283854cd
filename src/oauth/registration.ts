// Dynamic Client Registration (RFC 7591) for servers the user never registered an app with
// (remote MCP servers), and the registration's record in the store.
import * as oauth from "oauth4webapi";
import { z } from "zod";
import { BrokerError } from "../errors.ts";
import type { ClientAuthMethod } from "./client-auth.ts";
import { translateOAuthError } from "./errors.ts";
import { requestOptions, type FetchLike } from "./http.ts";

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
export async function registerClient(as: oauth.AuthorizationServer, fetch: FetchLike, req: { redirectUri: string; clientName: string }): Promise<Registration> {
  if (!as.registration_endpoint) {
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
      requestOptions(fetch, { formEncodedResponses: false, errorsWithHttp200: false, dropIdToken: false }, as.registration_endpoint),
    );
    client = await oauth.processDynamicClientRegistrationResponse(res);
  } catch (e) {
    throw translateOAuthError(e, "client registration");
  }
  const secret = typeof client.client_secret === "string" ? client.client_secret : undefined;
  const method = client.token_endpoint_auth_method;
  const authMethod: ClientAuthMethod = !secret ? "none" : method === "client_secret_basic" ? "client_secret_basic" : "client_secret_post";
  const redirectUris = Array.isArray(client.redirect_uris) ? (client.redirect_uris as unknown[]).filter((u): u is string => typeof u === "string") : [req.redirectUri];
  return { issuer: as.issuer, clientId: client.client_id, ...(secret ? { clientSecret: secret } : {}), authMethod, redirectUris };
}
