// `secret`: the group of secret sub-commands, each loaded only when run.
import { command } from "./command.ts";

export const secretCommand = command({
  examples: [
    "mcp-credentials-broker secret set github-token",
    "mcp-credentials-broker secret list --json",
    "mcp-credentials-broker secret policy github-token confirm --remember 10m",
    "mcp-credentials-broker secret approvals --clear",
    "mcp-credentials-broker secret rm github-token",
    "mcp-credentials-broker secret migrate --from file --to keychain",
  ],
  meta: { name: "secret", description: "Store, print, list, delete and migrate secrets; set who may read them and see remembered approvals" },
  subCommands: {
    set: () => import("./secret-set.ts").then((m) => m.secretSetCommand),
    get: () => import("./secret-get.ts").then((m) => m.secretGetCommand),
    list: () => import("./secret-list.ts").then((m) => m.secretListCommand),
    rm: () => import("./secret-rm.ts").then((m) => m.secretRmCommand),
    policy: () => import("./secret-policy.ts").then((m) => m.secretPolicyCommand),
    approvals: () => import("./secret-approvals.ts").then((m) => m.secretApprovalsCommand),
    migrate: () => import("./secret-migrate.ts").then((m) => m.secretMigrateCommand),
  },
});
