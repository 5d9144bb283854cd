// `rules`: prints agent rules (adapted from the original broker's) naming our tools.
import { defineCommand } from "citty";
import { out } from "./common.ts";
import { examples } from "./run-cli.ts";

examples.set("rules", ["mcp-credentials-broker rules > .cursor/rules/credentials.md", "mcp-credentials-broker rules >> CLAUDE.md"]);

/** The rules text; kept accurate to the tool names registered in src/mcp/tools. */
export const AGENT_RULES = `# Credentials rules (mcp-credentials-broker)

Credentials for this project are held by the \`mcp-credentials-broker\` MCP server.

1. Never ask the user to paste a token, password or API key into the chat, and never
   write one into a file, a commit, a command line or your reply.
2. To find what exists, call \`list_secrets\` (names only, never values).
3. To use a secret, call \`get_secret\` with its \`name\` and a clear \`purpose\`. You get a
   single-use reference that expires (\`ttl_seconds\`, default 3600).
4. Call \`resolve_secret\` with \`reference_id\` only at the moment the raw value is
   needed, pass it straight to the tool that needs it, and do not repeat it. A
   reference resolves once; for another use call \`get_secret\` again.
5. If a secret is missing, ask the user to run
   \`mcp-credentials-broker secret set <name>\` in a terminal (the value never enters
   the conversation). Use \`store_secret\` only for values you generated yourself.
6. For a short-lived signed token, call \`mint_token\` with the provider, the narrowest
   scopes and a short \`ttl_seconds\`; check one with \`verify_token\`; call
   \`revoke_token\` with its \`tokenId\` as soon as it is no longer needed.
7. \`get_broker_stats\` shows live tokens, live references and stored secrets;
   \`delete_secret\` removes a secret the user no longer wants kept.
`;

export const rulesCommand = defineCommand({
  meta: { name: "rules", description: "Print agent rules (for CLAUDE.md, .cursor/rules, AGENTS.md) that tell an agent how to use the broker's tools." },
  run() {
    process.stdout.write(AGENT_RULES);
  },
});
