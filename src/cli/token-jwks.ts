// `token jwks`: prints the public JWKS that verifies ES256 tokens.
import { command } from "./command.ts";
import { storeArg } from "./common.ts";

export const tokenJwksCommand = command({
  examples: ["mcp-credentials-broker token jwks > jwks.json"],
  meta: { name: "jwks", description: "Print the public JSON Web Key Set (RFC 7517) for the broker's ES256 tokens, to verify them elsewhere." },
  args: { ...storeArg },
  async run({ args, out, withRuntime }) {
    const jwks = await withRuntime(args.store, async (rt) => rt.broker.jwks());
    out(JSON.stringify(jwks, null, 2));
  },
});
