// `provider rm <name>`: forgets a client saved with `provider add`.
import { defineCommand } from "citty";
import { BrokerError } from "../errors.ts";
import { removeProviderSettings } from "../oauth/provider-settings.ts";
import { presetFor } from "../oauth/providers.ts";
import { storeArg, withRuntime } from "./common.ts";
import { examples } from "./dispatch.ts";

examples.set("provider rm", ["mcp-credentials-broker provider rm github"]);

export const providerRmCommand = defineCommand({
  meta: { name: "rm", description: "Remove the client settings saved with provider add (environment variables are not affected)." },
  args: { name: { type: "positional", required: true, description: "github, google, azure, okta or oauth2" }, ...storeArg },
  async run({ args }) {
    const preset = presetFor(args.name);
    const removed = await withRuntime(args.store, (rt) => removeProviderSettings(rt.broker.deps.store, preset.id));
    if (!removed) throw new BrokerError("NOT_FOUND", `No saved client for ${preset.id}. See: mcp-credentials-broker provider list`);
    process.stderr.write(`Removed the saved ${preset.title} client.\n`);
  },
});
