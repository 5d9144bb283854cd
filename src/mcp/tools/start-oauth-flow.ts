// start_oauth_flow: logs the user in to an OAuth provider and stores the token (the original
// broker's parameters and result), with the refresh token kept out of the agent's reach.
import { z } from "zod";
import { BrokerError } from "../../errors.ts";
import type { LoginUi } from "../../oauth/oauth-deps.ts";
import { PROVIDER_CHOICES, PROVIDER_IDS } from "../../core/oauth.ts";
import { defineTool, type ToolSession } from "../tool.ts";
import { message, scopes, secretName, success } from "../schemas.ts";


/** A LoginUi that reports through MCP notifications; remembers the URL for the error message. */
function notifyingUi(session: ToolSession | undefined, seen: { url?: string; opened: boolean }): LoginUi {
  const say = (m: string) => void session?.notify(m);
  return {
    authorizationUrl(url, opened) {
      seen.url = url;
      seen.opened = opened;
      say(opened ? `A browser window was opened to sign in. If you do not see it, open this URL: ${url}` : `Open this URL in a browser to sign in: ${url}`);
    },
    deviceCode(d) {
      seen.url = d.verificationUri;
      say(`To sign in, open ${d.verificationUri} and enter the code ${d.userCode} (valid for ${Math.round(d.expiresIn / 60)} minutes).`);
    },
    progress: say,
  };
}

export const startOAuthFlow = defineTool({
  name: "start_oauth_flow",
  title: "Log in with OAuth",
  description:
    "Log the user in to an OAuth provider in the browser (PKCE; device code when no browser can be opened) and store the access token under secret_name — no client_id or client_secret needed from you. The user completes the sign-in; the call returns when it is done. Then use get_secret with secret_name: the token is refreshed automatically. The refresh token is never handed out.",
  input: {
    provider: z.enum(PROVIDER_IDS).describe(`OAuth provider: ${PROVIDER_CHOICES} (any server configured by OAUTH2_ISSUER)`),
    scopes: scopes.describe("Scopes to request, e.g. ['repo', 'read:user'] for GitHub; [] for the provider's defaults"),
    secret_name: secretName.describe("Name to store the access token under; use it with get_secret later"),
    authorization_endpoint: z.string().max(2048).optional().describe("Authorization URL (https) — only for a generic oauth2 provider when the user configured no issuer; ignored when OAUTH2_ISSUER is set"),
    token_endpoint: z.string().max(2048).optional().describe("Token URL (https) — only for a generic oauth2 provider when the user configured no issuer; ignored when OAUTH2_ISSUER is set"),
  },
  output: {
    success,
    message,
    tokenType: z.string(),
    scope: z.string().optional(),
    expiresIn: z.number().optional(),
    hasRefreshToken: z.boolean(),
  },
  async run(input, ctx) {
    const seen: { url?: string; opened: boolean } = { opened: false };
    const session = ctx.session;
    const elicit = session?.elicitUrl;
    let result;
    try {
      result = await ctx.broker.login(
        {
          provider: input.provider,
          secretName: input.secret_name,
          scopes: input.scopes,
          overrides: { authorizationEndpoint: input.authorization_endpoint, tokenEndpoint: input.token_endpoint, fromAgent: true },
          mode: "auto",
          ...(elicit ? { presentUrl: (url: string) => elicit(url, `Sign in to ${input.provider} so the credentials broker can store a token as '${input.secret_name}'.`) } : {}),
          signal: session?.signal,
        },
        notifyingUi(session, seen),
        ctx,
      );
    } catch (e) {
      // When nothing showed the URL, the error carries it so the user can still sign in.
      if (e instanceof BrokerError && seen.url && !seen.opened && e.code !== "UNSAFE_URL") throw new BrokerError(e.code, `${e.message} To sign in, open: ${seen.url}`, { cause: e });
      throw e;
    }
    const r = result.record;
    return {
      success: true as const,
      message: result.byOtherProcess
        ? `Already signed in by another broker process; the access token is stored as '${input.secret_name}'. Use get_secret then resolve_secret to retrieve it.`
        : `OAuth flow completed. Access token stored as '${input.secret_name}'. Use get_secret then resolve_secret to retrieve it.`,
      tokenType: r.oauth?.tokenType ?? "Bearer",
      ...(r.oauth?.scope ? { scope: r.oauth.scope } : {}),
      ...(result.expiresIn !== undefined ? { expiresIn: result.expiresIn } : {}),
      hasRefreshToken: r.oauth?.refreshToken !== undefined,
    };
  },
});
