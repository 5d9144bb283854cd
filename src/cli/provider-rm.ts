// `provider rm <name>`: forgets a client saved with `provider add`.
import { PROVIDER_CHOICES } from "../core/oauth.ts";
import { presetFor } from "../oauth/providers.ts";
import { command } from "./command.ts";
import { storeArg } from "./common.ts";

export const providerRmCommand = command({
  examples: ["mcp-credentials-broker provider rm github"],
  meta: { name: "rm", description: "Remove the client settings saved with provider add (environment variables are not affected)." },
  args: { name: { type: "positional", required: true, description: PROVIDER_CHOICES }, ...storeArg },
  async run({ args, note, withRuntime }) {
    const preset = presetFor(args.name);
    await withRuntime(args.store, (rt) => rt.broker.removeProviderSettings(preset.id, { client: "cli", user: true }));
    note(`Removed the saved ${preset.title} client.`);
  },
});
