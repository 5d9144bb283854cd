// `provider`: OAuth client settings kept in the store (when environment variables are not used).
import { command } from "./command.ts";

export const providerCommand = command({
  examples: ["mcp-credentials-broker provider add github --client-id Iv1.abc123 < secret.txt", "mcp-credentials-broker provider list", "mcp-credentials-broker provider rm github"],
  meta: { name: "provider", description: "Save, list and remove OAuth client settings (client id, secret, issuer/domain/tenant/host)" },
  subCommands: {
    add: () => import("./provider-add.ts").then((m) => m.providerAddCommand),
    list: () => import("./provider-list.ts").then((m) => m.providerListCommand),
    rm: () => import("./provider-rm.ts").then((m) => m.providerRmCommand),
  },
});
