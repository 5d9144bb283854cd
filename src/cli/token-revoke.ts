// `token revoke <tokenId>`: revokes a minted token for every broker process.
import { defineCommand } from "citty";
import { storeArg, withRuntime } from "./common.ts";
import { examples } from "./dispatch.ts";

examples.set("token revoke", ["mcp-credentials-broker token revoke tok_3kT1…"]);

export const tokenRevokeCommand = defineCommand({
  meta: { name: "revoke", description: "Revoke a minted token by its id; verify rejects it from then on, in every process." },
  args: { token_id: { type: "positional", required: true, description: "Token id (tok_…) from mint" }, ...storeArg },
  async run({ args }) {
    const r = await withRuntime(args.store, (rt) => rt.broker.revokeToken(args.token_id, { client: "cli" }));
    process.stderr.write(r.expired ? `${r.tokenId} had already expired: nothing to revoke.\n` : `Revoked ${r.tokenId}.\n`);
  },
});
