// `npm run build`: compiles the host binary to dist/mcp-credentials-broker (see DESIGN.md "Build").
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import pkg from "../package.json";

/** Flags shared with scripts/release.ts. --no-compile-autoload-* keep a stray .env or
 * bunfig.toml in the MCP client's working directory from configuring a credentials broker. */
export function compileArgs(outfile: string, version: string, target?: string): string[] {
  return [
    "build",
    "--compile",
    "--minify",
    "--bytecode",
    "--format=esm",
    "--sourcemap",
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    `--define=BUILD_VERSION=${JSON.stringify(version)}`,
    ...(target ? [`--target=${target}`] : []),
    "--outfile",
    outfile,
    "src/main.ts",
  ];
}

if (import.meta.main) {
  const version = process.env.MCB_VERSION ?? pkg.version;
  // `--outfile DIR/mcp-credentials-broker` builds elsewhere (tests then use MCB_TEST_BINARY).
  const i = process.argv.indexOf("--outfile");
  const outfile = i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : "dist/mcp-credentials-broker";
  mkdirSync(dirname(outfile), { recursive: true });
  const proc = Bun.spawnSync([process.execPath, ...compileArgs(outfile, version)], { stdio: ["inherit", "inherit", "inherit"] });
  process.exit(proc.exitCode ?? 1);
}
