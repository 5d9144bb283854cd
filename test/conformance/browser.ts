// The "browser" the connect driver sets as BROWSER (through a small wrapper it writes, see
// connect-driver.ts): GETs the authorization URL and follows the redirects by hand, loopback
// only, until the broker's callback page. The broker starts it detached without stdio, so it
// reports to the file named by CONFORMANCE_BROWSER_LOG; a failure exits 1.
import { appendFileSync } from "node:fs";
import { followRedirects, short } from "./lib.ts";

function log(line: string): void {
  const file = process.env.CONFORMANCE_BROWSER_LOG;
  if (file) appendFileSync(file, `[browser] ${line}\n`);
  else process.stderr.write(`[browser] ${line}\n`);
}

const url = process.argv.at(-1) ?? "";
followRedirects(url).then(
  (landed) => {
    log(`${landed.hops.map(short).join(" → ")}: ${landed.status}`);
    process.exit(landed.status === 200 ? 0 : 1);
  },
  (e: unknown) => {
    log(`${short(url)}: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
