// `logout <name>`: revokes an OAuth token at its provider (RFC 7009) when it can, and deletes it.
import { command } from "./command.ts";
import { storeArg } from "./common.ts";
import { terminalText } from "./terminal-text.ts";

export const logoutCommand = command({
  examples: ["mcp-credentials-broker logout github-token"],
  meta: { name: "logout", description: "Delete a stored token; an OAuth token is first revoked at the provider (RFC 7009) when it offers revocation." },
  args: { name: { type: "positional", required: true, description: "Secret name (as given to login --name)" }, ...storeArg },
  async run({ args, note, withRuntime }) {
    const { revocation } = await withRuntime(args.store, (rt) => rt.broker.logout(args.name, { client: "cli", user: true }));
    const done = {
      revoked: "revoked at the provider and deleted",
      unsupported: "deleted (the provider offers no token revocation; revoke the app's access in its settings if needed)",
      failed: "deleted, but the provider did not confirm the revocation (see the warning above)",
      "not-oauth": "deleted",
    }[revocation];
    note(`'${terminalText(args.name)}' ${done}.`);
  },
});
