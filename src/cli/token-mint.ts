// `token mint <provider>`: mints a short-lived JWT (prints the token; --json for all fields).
import { defineCommand } from "citty";
import { BrokerError } from "../errors.ts";
import { MINT_PROVIDERS, type MintProvider } from "../core/ttl.ts";
import { jsonArg, out, repeatedFlag, storeArg, withRuntime } from "./common.ts";
import { examples } from "./dispatch.ts";

examples.set("token mint", [
  "mcp-credentials-broker token mint github --scope repo:read",
  "mcp-credentials-broker token mint oauth2 --scope mcp:tools --resource https://mcp.example.com --ttl 600 --json",
]);

export const tokenMintCommand = defineCommand({
  meta: { name: "mint", description: `Mint a short-lived signed JWT. Providers: ${MINT_PROVIDERS.join(", ")}.` },
  args: {
    provider: { type: "positional", required: true, description: `One of ${MINT_PROVIDERS.join(", ")}` },
    scope: { type: "string", description: "A scope (repeatable, or space/comma-separated)" },
    resource: { type: "string", description: "Resource the token is for (becomes aud)" },
    ttl: { type: "string", description: "Lifetime in seconds (default 3600; max per provider)" },
    ...jsonArg,
    ...storeArg,
  },
  async run({ args, rawArgs }) {
    if (!(MINT_PROVIDERS as readonly string[]).includes(args.provider)) {
      throw new BrokerError("INVALID_INPUT", `Unknown provider '${args.provider}'. Use one of: ${MINT_PROVIDERS.join(", ")}.`);
    }
    const scopes = repeatedFlag(rawArgs, "scope").flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
    const ttlSeconds = args.ttl === undefined ? undefined : Number(args.ttl);
    const t = await withRuntime(args.store, (rt) =>
      rt.broker.mintToken({ provider: args.provider as MintProvider, scopes, resource: args.resource, ttlSeconds }, { client: "cli" }),
    );
    if (args.json) return out(JSON.stringify(t, null, 2));
    out(t.token);
    process.stderr.write(`token id ${t.tokenId}, expires ${new Date(t.expiresAt).toISOString()}\n`);
  },
});
