// `provider rm <name>`: forgets a client saved with `provider add`.
import { defineCommand } from "citty";
import { presetFor } from "../oauth/providers.ts";
import { storeArg, withRuntime } from "./common.ts";
import { examples } from "./dispatch.ts";

examples.set("provider rm", ["mcp-credentials-broker provider rm github"]);

export const providerRmCommand = defineCommand({
  meta: { name: "rm", description: "Remove the client settings saved with provider add (environment variables are not affected)." },
  args: { name: { type: "positional", required: true, description: "github, google, azure, okta or oauth2" }, ...storeArg },
  async run({ args }) {
    const preset = presetFor(args.name);
    await withRuntime(args.store, (rt) => rt.broker.removeProviderSettings(preset.id, { client: "cli", user: true }));
    process.stderr.write(`Removed the saved ${preset.title} client.\n`);
  },
});
