// `token jwks`: prints the public JWKS that verifies ES256 tokens.
import { defineCommand } from "citty";
import { out, storeArg, withRuntime } from "./common.ts";
import { examples } from "./dispatch.ts";

examples.set("token jwks", ["mcp-credentials-broker token jwks > jwks.json"]);

export const tokenJwksCommand = defineCommand({
  meta: { name: "jwks", description: "Print the public JSON Web Key Set (RFC 7517) for the broker's ES256 tokens, to verify them elsewhere." },
  args: { ...storeArg },
  async run({ args }) {
    const jwks = await withRuntime(args.store, async (rt) => rt.broker.jwks());
    out(JSON.stringify(jwks, null, 2));
  },
});
