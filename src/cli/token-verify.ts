// `token verify`: checks a token read from stdin (or given as an argument); exit 1 when invalid.
import { command } from "./command.ts";
import { jsonArg, storeArg } from "./common.ts";
import { readAll } from "./prompt.ts";
import { terminalText } from "./terminal-text.ts";

export const tokenVerifyCommand = command({
  examples: ["mcp-credentials-broker token mint github | mcp-credentials-broker token verify", "mcp-credentials-broker token verify --json < token.jwt"],
  meta: { name: "verify", description: "Verify a minted token: signature, issuer, expiry, revocation. Reads the token from stdin unless given (stdin keeps it out of `ps`)." },
  args: { token: { type: "positional", required: false, description: "The JWT (default: read stdin)" }, ...jsonArg, ...storeArg },
  async run({ args, io, out, withRuntime }) {
    const token = (args.token ?? (await readAll(io.stdin))).trim();
    const r = await withRuntime(args.store, (rt) => rt.broker.verifyToken(token));
    if (args.json) out(JSON.stringify(r, null, 2));
    else out(r.valid ? `valid: ${terminalText(String(r.claims.jti))} (${terminalText(String(r.claims.provider))}), expires ${new Date(Number(r.claims.exp) * 1000).toISOString()}` : `invalid: ${terminalText(r.reason)}`);
    return r.valid ? 0 : 1;
  },
});
