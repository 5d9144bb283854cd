// `token`: the group of minted-token sub-commands.
import { command } from "./command.ts";

export const tokenCommand = command({
  examples: ["mcp-credentials-broker token mint github --scope repo", "mcp-credentials-broker token jwks"],
  meta: { name: "token", description: "Mint, verify and revoke short-lived JWTs; print the JWKS" },
  subCommands: {
    mint: () => import("./token-mint.ts").then((m) => m.tokenMintCommand),
    verify: () => import("./token-verify.ts").then((m) => m.tokenVerifyCommand),
    revoke: () => import("./token-revoke.ts").then((m) => m.tokenRevokeCommand),
    jwks: () => import("./token-jwks.ts").then((m) => m.tokenJwksCommand),
  },
});
