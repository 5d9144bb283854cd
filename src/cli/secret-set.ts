// `secret set <name>`: stores a secret read from stdin or a hidden prompt — never from argv.
import { BrokerError } from "../errors.ts";
import { normalizeHosts, parsePolicy, parseTags } from "../core/schemas.ts";
import { POLICIES } from "../core/store.ts";
import { command } from "./command.ts";
import { repeatedFlag, storeArg } from "./common.ts";
import { readSecretValue } from "./prompt.ts";
import { terminalText } from "./terminal-text.ts";

export const secretSetCommand = command({
  examples: [
    "mcp-credentials-broker secret set github-token            # prompts, input hidden",
    "gh auth token | mcp-credentials-broker secret set github-token",
    "mcp-credentials-broker secret set api-key --tag env=prod < key.txt",
    "mcp-credentials-broker secret set github-token --policy deny --host api.github.com   # only `run` may use it",
  ],
  meta: { name: "set", description: "Store a secret. The value is read from stdin when piped, else from a hidden prompt; it is never taken from the command line." },
  args: {
    name: { type: "positional", required: true, description: "Secret name" },
    tag: { type: "string", description: "A key=value tag (repeatable)", valueHint: "k=v", repeatable: true },
    policy: { type: "string", description: "Who may read the value: allow (default), confirm (the user approves each use), deny (only `run`). Kept when omitted on a replace.", valueHint: POLICIES.join("|") },
    host: { type: "string", description: "A host the secret is for, shown to agents (repeatable)", valueHint: "api.example.com", repeatable: true },
    ...storeArg,
  },
  async run({ args, rawArgs, io, withRuntime, note }) {
    if (args._.length > 1) {
      throw new BrokerError("INVALID_INPUT", "secret set takes only a name: pipe the value on stdin or type it at the prompt (a value on the command line would be visible to other processes).");
    }
    const policy = args.policy === undefined ? undefined : parsePolicy(args.policy);
    // Checked before the value is typed, so a typo in a flag does not waste the prompt
    // (the core's rules: src/core/schemas.ts; the Broker checks them again).
    const hosts = normalizeHosts(repeatedFlag(rawArgs, "host"));
    const tags = parseTags(repeatedFlag(rawArgs, "tag"));
    const value = await readSecretValue(io, `Value for '${terminalText(args.name)}'`);
    if (value.length === 0) throw new BrokerError("INVALID_INPUT", "Empty value: nothing stored. Pipe the value on stdin or type it at the prompt.");
    await withRuntime(args.store, async (rt) => {
      await rt.broker.storeSecret(args.name, value, { tags, policy, ...(hosts.length ? { hosts } : {}) }, { client: "cli", user: true });
    });
    note(`Stored secret '${terminalText(args.name)}'.`);
  },
});
