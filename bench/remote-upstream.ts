// The upstream for bench/remote.ts, in its own process so it does not share an event loop
// with the load generator: the oidc-provider fixture and the remote MCP fixture on
// 127.0.0.1, plus a control port that tells the bench the last bearer token the server saw
// (to call it directly, and to give mcp-remote the same login). Prints one JSON line.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startRemoteMcp } from "../test/fixtures/remote-mcp.ts";
import { startRemoteIdp } from "../test/support/remote.ts";

const idp = await startRemoteIdp();
const remote = await startRemoteMcp({ issuer: idp.issuer });
const control = createServer((_req, res) => {
  const last = [...remote.authorizations].reverse().find((h) => h?.startsWith("Bearer "));
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ authorization: last ?? null, refreshes: idp.counts.refresh_token }));
});
await new Promise<void>((r) => control.listen(0, "127.0.0.1", r));
process.stdout.write(`${JSON.stringify({ url: remote.url, issuer: idp.issuer, control: `http://127.0.0.1:${(control.address() as AddressInfo).port}` })}\n`);
process.on("SIGTERM", async () => {
  await remote.stop();
  await idp.stop();
  process.exit(0);
});
