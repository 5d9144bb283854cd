// `npm test`: builds the binary (e2e tests drive it), runs `bun test`, and ends with the one
// line CI reads: `N passed, N failed[, N skipped]`. Exit code is bun's.
import { spawn, spawnSync } from "node:child_process";

const bun = process.execPath;
// With MCB_TEST_BINARY set, build that file instead of dist/ (a private build for a busy tree).
const target = process.env.MCB_TEST_BINARY;
const build = spawnSync(bun, ["scripts/build.ts", ...(target ? ["--outfile", target] : [])], { stdio: "inherit" });
if (build.status !== 0) {
  console.log("0 passed, 1 failed");
  process.exit(1);
}

const extra = process.argv.slice(2);
// bun's default per-test timeout is 5 s; e2e tests spawn the binary and real peers, and a
// busy 2-core CI machine needs more. (bunfig.toml's [test] timeout is not read by bun test.)
const child = spawn(bun, ["test", "--timeout", "30000", ...extra], { stdio: ["ignore", "inherit", "pipe"] });
let tail = "";
child.stderr.on("data", (c: Buffer) => {
  process.stderr.write(c);
  tail = (tail + c.toString("utf8")).slice(-20_000);
});
child.on("close", (code) => {
  const num = (re: RegExp) => Number(tail.match(re)?.[1] ?? 0);
  const passed = num(/^\s*(\d+) pass$/m);
  let failed = num(/^\s*(\d+) fail$/m) + num(/^\s*(\d+) errors?$/m);
  const skipped = num(/^\s*(\d+) skip$/m) + num(/^\s*(\d+) todo$/m);
  // Never report a clean run when bun itself failed (e.g. "No tests found!").
  if (code !== 0 && failed === 0) failed = 1;
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
  process.exit(code ?? 1);
});
