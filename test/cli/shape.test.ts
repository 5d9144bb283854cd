// The command shape (src/cli/command.ts) holds for every command file: no command reaches for
// the process's streams or exit code, opens the runtime itself, or registers examples by path;
// only dispatch.ts builds the real IO and runtime from the process.
import { describe, expect, it } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const CLI = join(import.meta.dir, "../../src/cli");
/** The file's code without comment lines. */
const code = (file: string) =>
  readFileSync(join(CLI, file), "utf8")
    .split("\n")
    .filter((l) => !/^\s*(\/\/|\*|\/\*\*)/.test(l))
    .join("\n");

const files = readdirSync(CLI).filter((f) => f.endsWith(".ts") && f !== "dispatch.ts");

describe("src/cli commands", () => {
  for (const file of files) {
    it(`${file}: no process.stdout/stderr/stdin/exitCode, no citty defineCommand outside command.ts, no examples keyed by path`, () => {
      const text = code(file);
      expect(text).not.toMatch(/process\.(stdout|stderr|stdin|exitCode)\b/);
      if (file !== "command.ts") expect(text).not.toContain("defineCommand");
      expect(text).not.toMatch(/examples\.(set|get)\(/);
    });
  }

  it("only serve.ts's default for main.ts (the fast path with no arguments) opens the runtime outside dispatch.ts", () => {
    const opens = /\(await import\("\.\.\/runtime\.ts"\)\)\.openRuntime|import \{[^}]*\bopenRuntime\b[^}]*\} from "\.\.\/runtime\.ts"/;
    const opening = files.filter((f) => opens.test(code(f)));
    expect(opening).toEqual(["serve.ts"]);
  });
});
