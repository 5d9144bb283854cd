// `provider add <name>`: saves an OAuth client (id from --client-id, secret from stdin or a
// hidden prompt — never argv) in the store, for use when its environment variables are unset.
import { BrokerError } from "../errors.ts";
import { PROVIDER_CHOICES } from "../core/oauth.ts";
import { presetFor, type StoredProviderSettings } from "../oauth/providers.ts";
import { parseSafeUrl } from "../oauth/url-policy.ts";
import { command } from "./command.ts";
import { storeArg } from "./common.ts";
import { readSecretValue } from "./prompt.ts";

export const providerAddCommand = command({
  examples: [
    "mcp-credentials-broker provider add github --client-id Iv1.abc123          # prompts for the secret",
    "mcp-credentials-broker provider add okta --client-id 0oa1 --domain dev-1.okta.com < secret.txt",
    "mcp-credentials-broker provider add oauth2 --client-id cli --issuer https://idp.example.com --public",
  ],
  meta: { name: "add", description: "Save an OAuth client for a provider. The client secret is read from stdin or a hidden prompt, never from the command line." },
  args: {
    name: { type: "positional", required: true, description: PROVIDER_CHOICES },
    "client-id": { type: "string", required: true, description: "The OAuth client id", valueHint: "id" },
    public: { type: "boolean", description: "A public client: no secret (PKCE only)" },
    issuer: { type: "string", description: "oauth2: issuer URL for discovery", valueHint: "url" },
    domain: { type: "string", description: "okta: your Okta domain", valueHint: "host" },
    tenant: { type: "string", description: "azure: tenant id or domain (default common)", valueHint: "tenant" },
    host: { type: "string", description: "github: GitHub Enterprise Server host", valueHint: "host" },
    ...storeArg,
  },
  async run({ args, io, note, withRuntime }) {
    const preset = presetFor(args.name);
    if (args.issuer) parseSafeUrl(args.issuer, "issuer");
    const secret = args.public ? "" : await readSecretValue(io, `Client secret for ${preset.id} (empty for a public client)`);
    const settings: StoredProviderSettings = {
      clientId: args["client-id"],
      ...(secret ? { clientSecret: secret } : {}),
      ...(args.issuer ? { issuer: args.issuer } : {}),
      ...(args.domain ? { domain: args.domain } : {}),
      ...(args.tenant ? { tenant: args.tenant } : {}),
      ...(args.host ? { host: args.host } : {}),
    };
    if (preset.id === "okta" && !settings.domain) throw new BrokerError("INVALID_INPUT", "okta needs --domain (your Okta domain, e.g. dev-1.okta.com).");
    await withRuntime(args.store, (rt) => rt.broker.saveProviderSettings(preset.id, settings, { client: "cli", user: true }));
    note(`Saved the ${preset.title} client${secret ? " and its secret" : " (public, no secret)"}. Environment variables, when set, still take precedence.`);
  },
});
