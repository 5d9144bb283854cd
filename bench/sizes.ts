// `npm run bench:sizes` (= `bun bench/sizes.ts`): binary size per release target against a
// Bun hello-world compiled for the same target. Builds every target with
// `scripts/release.ts --dry-run --out bench/.build/release` (ours + archives), compiles
// bench/hello-bare.ts per target, prints a markdown table and writes it into bench/RESULTS.md
// between the sizes markers (bench/run.ts keeps that block). Flag: --no-write.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { archiveName, exeName, TARGETS } from "../scripts/release/targets.ts";
import { BLOCKS, keptBlock } from "./lib.ts";

const BENCH = import.meta.dir;
const ROOT = resolve(BENCH, "..");
const OUT = join(BENCH, ".build", "release");
const RESULTS = join(BENCH, "RESULTS.md");
const HELLO_FLAGS = ["build", "--compile", "--minify", "--bytecode", "--format=esm"];

function fail(msg: string): never {
  process.stderr.write(`bench:sizes: ${msg}\n`);
  process.exit(1);
}

process.stderr.write("bench:sizes: building every target with scripts/release.ts --dry-run …\n");
const rel = Bun.spawnSync([process.execPath, "scripts/release.ts", "--dry-run", "--out", OUT], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
if (rel.exitCode !== 0) fail("scripts/release.ts failed (see above).");

const mib = (n: number) => (n / 2 ** 20).toFixed(1);
const rows: string[] = [];
for (const t of TARGETS) {
  const hello = join(BENCH, ".build", "hello", t.name, t.os === "windows" ? "hello.exe" : "hello");
  mkdirSync(join(hello, ".."), { recursive: true });
  const r = Bun.spawnSync([process.execPath, ...HELLO_FLAGS, `--target=${t.bunTarget}`, "--outfile", hello, join(BENCH, "hello-bare.ts")], { cwd: BENCH, stdio: ["ignore", "ignore", "inherit"] });
  if (r.exitCode !== 0 || !existsSync(hello)) fail(`compiling the hello-world for ${t.bunTarget} failed.`);
  const ours = statSync(join(OUT, t.name, exeName(t))).size;
  const floor = statSync(hello).size;
  const archive = statSync(join(OUT, "release", archiveName(t))).size;
  rows.push(`| ${t.name} (\`${t.bunTarget}\`) | ${ours.toLocaleString("en-US")} (${mib(ours)} MiB) | ${floor.toLocaleString("en-US")} (${mib(floor)} MiB) | ${(ours - floor).toLocaleString("en-US")} (${mib(ours - floor)} MiB) | ${(ours / floor).toFixed(3)}× | ${archive.toLocaleString("en-US")} (${mib(archive)} MiB, ${archiveName(t).endsWith(".zip") ? "zip" : "tar.gz"} -9) |`);
}

const [start, end] = BLOCKS.sizes;
const block = `${start}
### Per release target (bench/sizes.ts, ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}, Bun ${Bun.version})

Ours: \`scripts/release.ts\` builds (the flags of docs/release.md §Build flags, with \`--sourcemap\` embedded). Floor: Bun's
hello-world (\`bench/hello-bare.ts\`, \`bun ${HELLO_FLAGS.join(" ")} --target=…\`) for the same target, i.e. the
runtime alone. Archives hold the binary, README.md and LICENSE.

| target | ours, bytes | Bun hello-world, bytes | ours − hello | ours / hello | release archive, bytes |
|---|---:|---:|---:|---:|---:|
${rows.join("\n")}
${end}`;

process.stdout.write(`${block}\n`);
if (!process.argv.includes("--no-write")) {
  if (!existsSync(RESULTS)) fail(`${RESULTS} is missing; run \`npm run bench\` first.`);
  const text = readFileSync(RESULTS, "utf8");
  const old = keptBlock(text, BLOCKS.sizes);
  // First run: put the block at the end of section (d), before the generated observations.
  const next = text.includes(start) ? text.replace(old, block) : text.replace("\n## Observations from this run", `\n${block}\n\n## Observations from this run`);
  if (next === text && !text.includes(block)) fail(`could not place the sizes block in ${RESULTS}.`);
  writeFileSync(RESULTS, next);
  process.stderr.write(`bench:sizes: wrote ${RESULTS}\n`);
}
