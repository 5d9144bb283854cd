// Every tool the stdio broker registers, in the order tools/list shows them.
import { deleteSecret } from "./delete-secret.ts";
import { getBrokerStats } from "./get-broker-stats.ts";
import { getSecret } from "./get-secret.ts";
import { listSecrets } from "./list-secrets.ts";
import { mintToken } from "./mint-token.ts";
import { resolveSecret } from "./resolve-secret.ts";
import { revokeToken } from "./revoke-token.ts";
import { startOAuthFlow } from "./start-oauth-flow.ts";
import { storeSecret } from "./store-secret.ts";
import { verifyToken } from "./verify-token.ts";

export const tools = [getSecret, resolveSecret, storeSecret, startOAuthFlow, listSecrets, deleteSecret, mintToken, revokeToken, verifyToken, getBrokerStats] as const;
