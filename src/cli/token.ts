// `token`: the group of minted-token sub-commands.
import { defineCommand } from "citty";
import { examples } from "./dispatch.ts";

examples.set("token", ["mcp-credentials-broker token mint github --scope repo", "mcp-credentials-broker token jwks"]);

export const tokenCommand = defineCommand({
  meta: { name: "token", description: "Mint, verify and revoke short-lived JWTs; print the JWKS" },
  subCommands: {
    mint: () => import("./token-mint.ts").then((m) => m.tokenMintCommand),
    verify: () => import("./token-verify.ts").then((m) => m.tokenVerifyCommand),
    revoke: () => import("./token-revoke.ts").then((m) => m.tokenRevokeCommand),
    jwks: () => import("./token-jwks.ts").then((m) => m.tokenJwksCommand),
  },
});
