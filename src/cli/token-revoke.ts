// `token revoke <tokenId>`: revokes a minted token for every broker process.
import { command } from "./command.ts";
import { storeArg } from "./common.ts";
import { terminalText } from "./terminal-text.ts";

export const tokenRevokeCommand = command({
  examples: ["mcp-credentials-broker token revoke tok_3kT1…"],
  meta: { name: "revoke", description: "Revoke a minted token by its id; verify rejects it from then on, in every process." },
  args: { token_id: { type: "positional", required: true, description: "Token id (tok_…) from mint" }, ...storeArg },
  async run({ args, note, withRuntime }) {
    const r = await withRuntime(args.store, (rt) => rt.broker.revokeToken(args.token_id, { client: "cli" }));
    note(r.expired ? `${terminalText(r.tokenId)} had already expired: nothing to revoke.` : `Revoked ${terminalText(r.tokenId)}.`);
  },
});
