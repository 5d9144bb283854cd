// `rules`: prints agent rules (adapted from the original broker's) naming our tools.
import { PROVIDER_IDS } from "../core/oauth.ts";
import { command } from "./command.ts";

/** The rules text; kept accurate to the tool names registered in src/mcp/tools (test/cli/rules.test.ts checks). */
export const AGENT_RULES = `# Credentials rules (mcp-credentials-broker)

Credentials for this project are held by the \`mcp-credentials-broker\` MCP server. You
never need to see a token to use a tool that needs one.

1. Never ask the user to paste a token, password or API key into the chat, and never
   write one into a file, a commit, a command line or your reply.
2. First choice: tool servers that already hold their credentials. A server started as
   \`mcp-credentials-broker run --env VAR=secret:<name> -- <server>\` has its token in
   its environment: just call its tools. Where its output shows \`<redacted:VAR>\`, the
   token was kept from you on purpose; do not try to recover it.
3. When a tool server needs a credential it does not have, suggest that the user wrap it
   with \`mcp-credentials-broker run\` (README: "safest setup") instead of giving you the
   value.
4. To find what exists, call \`list_secrets\`: names, \`policy\` and \`hosts\`, never
   values. Use a secret only with the hosts it lists.
5. Only when you must use a secret yourself, call \`get_secret\` with its \`name\` and a
   clear \`purpose\`. You get a single-use reference that expires (\`ttl_seconds\`,
   default 3600).
6. Call \`resolve_secret\` with \`reference_id\` only at the moment the raw value is
   needed, pass it straight to the tool that needs it, and do not repeat it. A reference
   resolves once; for another use call \`get_secret\` again. Policy \`confirm\`: the
   user is asked to approve each resolve, in a system dialog or in their client (it may
   wait for them); if they decline, stop and do not retry unless they ask. Policy
   \`deny\`: the value is never given to you; only a
   \`run\`-wrapped server can use it.
7. If a secret is missing, ask the user to run
   \`mcp-credentials-broker secret set <name>\` in a terminal (the value never enters
   the conversation). Use \`store_secret\` only for values you generated yourself.
   For an OAuth provider (${PROVIDER_IDS.join(", ")}), call
   \`start_oauth_flow\` with the provider, the scopes and a \`secret_name\`: the user
   signs in in the browser, the token is stored and refreshed for you; then use it
   through \`get_secret\` like any other secret.
8. For a short-lived signed token, call \`mint_token\` with the provider, the narrowest
   scopes and a short \`ttl_seconds\`; check one with \`verify_token\`; call
   \`revoke_token\` with its \`tokenId\` as soon as it is no longer needed.
9. \`get_broker_stats\` shows live tokens, live references and stored secrets;
   \`delete_secret\` removes a secret the user no longer wants kept.
`;

export const rulesCommand = command({
  examples: ["mcp-credentials-broker rules > .cursor/rules/credentials.md", "mcp-credentials-broker rules >> CLAUDE.md"],
  meta: { name: "rules", description: "Print agent rules (for CLAUDE.md, .cursor/rules, AGENTS.md) that tell an agent how to use the broker's tools." },
  run({ io }) {
    io.stdout.write(AGENT_RULES);
  },
});
