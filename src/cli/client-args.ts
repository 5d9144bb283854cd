// Arguments `install` and `uninstall` share: the client, the server name, the scope.
import { CLIENT_IDS, type ClientId, parseClientId, type Scope } from "../mcp-clients/clients.ts";
import { UsageError } from "./dispatch.ts";

export const clientArgs = {
  client: { type: "positional", required: true, description: `MCP client: ${CLIENT_IDS.join(", ")}`, valueHint: "client" },
  name: { type: "string", description: "Server name in the client's config (default: credentials)", valueHint: "name" },
  scope: { type: "string", description: "user (default) or project (the config in the current directory)", valueHint: "user|project" },
  "dry-run": { type: "boolean", description: "Print what would change; write nothing" },
  force: { type: "boolean", description: "Replace (install) or remove (uninstall) an entry that runs another command" },
} as const;

export interface ClientChoice {
  client: ClientId;
  name: string;
  scope: Scope;
  dryRun: boolean;
  force: boolean;
}

/** Validates the shared arguments; bad ones are usage errors (exit 2). */
export function parseClientChoice(args: { client: string; name?: string; scope?: string; "dry-run"?: boolean; force?: boolean }): ClientChoice {
  const client = parseClientId(args.client);
  if (!client) throw new UsageError(`Unknown client '${args.client}'. Choose one of: ${CLIENT_IDS.join(", ")}.`);
  const name = args.name ?? "credentials";
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new UsageError("--name must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
  const scope = args.scope ?? "user";
  if (scope !== "user" && scope !== "project") throw new UsageError(`--scope must be user or project, not '${scope}'.`);
  return { client, name, scope, dryRun: Boolean(args["dry-run"]), force: Boolean(args.force) };
}
