// `token mint <provider>`: mints a short-lived JWT (prints the token; --json for all fields).
import { BrokerError } from "../errors.ts";
import { MINT_PROVIDERS, type MintProvider } from "../core/ttl.ts";
import { command } from "./command.ts";
import { jsonArg, repeatedFlag, storeArg } from "./common.ts";

export const tokenMintCommand = command({
  examples: [
    "mcp-credentials-broker token mint github --scope repo:read",
    "mcp-credentials-broker token mint oauth2 --scope mcp:tools --resource https://mcp.example.com --ttl 600 --json",
  ],
  meta: { name: "mint", description: `Mint a short-lived signed JWT. Providers: ${MINT_PROVIDERS.join(", ")}.` },
  args: {
    provider: { type: "positional", required: true, description: `One of ${MINT_PROVIDERS.join(", ")}` },
    scope: { type: "string", description: "A scope (repeatable, or space/comma-separated)", repeatable: true },
    resource: { type: "string", description: "Resource the token is for (becomes aud)" },
    ttl: { type: "string", description: "Lifetime in seconds (default 3600; max per provider)" },
    ...jsonArg,
    ...storeArg,
  },
  async run({ args, rawArgs, out, note, withRuntime }) {
    if (!(MINT_PROVIDERS as readonly string[]).includes(args.provider)) {
      throw new BrokerError("INVALID_INPUT", `Unknown provider '${args.provider}'. Use one of: ${MINT_PROVIDERS.join(", ")}.`);
    }
    const scopes = repeatedFlag(rawArgs, "scope").flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
    // A flag that is not a number is a usage error; the range per provider is the core's rule (exit 1, naming it).
    if (args.ttl !== undefined && !/^\d{1,9}$/.test(args.ttl.trim())) throw new BrokerError("INVALID_INPUT", `--ttl must be a whole number of seconds (got ${JSON.stringify(args.ttl.slice(0, 20))}).`);
    const ttlSeconds = args.ttl === undefined ? undefined : Number(args.ttl);
    const t = await withRuntime(args.store, (rt) =>
      rt.broker.mintToken({ provider: args.provider as MintProvider, scopes, resource: args.resource, ttlSeconds }, { client: "cli" }),
    );
    if (args.json) return out(JSON.stringify(t, null, 2));
    out(t.token);
    note(`token id ${t.tokenId}, expires ${new Date(t.expiresAt).toISOString()}`);
  },
});
