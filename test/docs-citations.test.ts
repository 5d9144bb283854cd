// The rules comments lean on live in the repository: a citation names docs/<file>.md (or
// README.md), optionally with `§<heading>`, or an RFC / spec section — never a file that is
// not in the repository (issue 15). This test fails on a citation of the team's old outside
// files, on a docs/<file>.md that does not exist, and on a `§Section` that is not a heading
// of the cited file (a renamed heading breaks its citations). Keep a citation on one line.
// The docs name only source files that exist, and docs/architecture.md lists every one.
import { describe, expect, it } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(import.meta.dir, "..");
const SCANNED_DIRS = ["src", "test", "scripts", "bench", "docs"];
const TEXT = /\.(ts|mts|mjs|js|md|json|ya?ml|sh|txt)$/;

/** Names of files outside the repository that comments once cited; spelled in parts so this file does not cite them. */
const OUTSIDE = ["ANCHORS", "DESIGN", "TESTING", "RELEASE"];
const OUTSIDE_CITATION = new RegExp(`\\b(${OUTSIDE.join("|")})\\.md\\b`);

/** `docs/<file>.md` or `README.md`, not part of a longer path or URL, then an optional `§Section` on the same line. */
const CITATION = /(?<![\w/.-])(docs\/[\w.-]+\.md|README\.md)`?(?:[ \t]+§[ \t]*([^\n]*))?/g;

/** A source file named in prose: `src/…/x.ts`, not part of a longer path or URL. */
const SOURCE_PATH = /(?<![\w/.-])(src\/[\w./-]+\.ts)\b/g;

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules") continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (TEXT.test(e.name)) out.push(p);
  }
  return out;
}

/** Also the CI scripts and workflows, whose comments cite the same docs. */
const FILES = [...SCANNED_DIRS.flatMap((d) => walk(join(ROOT, d))), ...walk(join(ROOT, ".github")), join(ROOT, ".ci", "run"), join(ROOT, "README.md")];

/** Every line of every scanned file, with where it is. */
function* lines(): Generator<{ where: string; text: string }> {
  for (const file of FILES) {
    const rel = relative(ROOT, file);
    const all = readFileSync(file, "utf8").split("\n");
    for (let i = 0; i < all.length; i++) yield { where: `${rel}:${i + 1}`, text: all[i]! };
  }
}

/** The headings of a markdown file (outside code fences), without their `#`s. */
function headings(file: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of readFileSync(join(ROOT, file), "utf8").split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}[ \t]+(.+?)[ \t#]*$/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

/** Whether `rest` (the text after `§`) starts with one of `heads`, ending there or at a non-word character. */
function namesHeading(rest: string, heads: string[]): boolean {
  return heads.some((h) => rest.startsWith(h) && !/^[\p{L}\p{N}_]/u.test(rest.slice(h.length)));
}

describe("documentation citations", () => {
  it("scans the source, tests, scripts, bench, docs, CI files and README", () => {
    expect(FILES.some((f) => f.endsWith(join("src", "core", "broker.ts")))).toBe(true);
    expect(FILES.some((f) => f.endsWith("release.yml"))).toBe(true);
    expect(FILES.length).toBeGreaterThan(100);
  });

  it("never cites a file that is not in the repository", () => {
    const found = [...lines()].filter((l) => OUTSIDE_CITATION.test(l.text)).map((l) => `${l.where}: ${l.text.trim()}`);
    expect(found).toEqual([]);
  });

  it("cites only docs that exist, and only headings they have", () => {
    const bad: string[] = [];
    const cache = new Map<string, string[]>();
    for (const { where, text } of lines()) {
      for (const m of text.matchAll(CITATION)) {
        const [, file, section] = m;
        if (!existsSync(join(ROOT, file!))) {
          bad.push(`${where}: ${file} does not exist`);
          continue;
        }
        if (section === undefined) continue;
        if (!cache.has(file!)) cache.set(file!, headings(file!));
        if (!namesHeading(section, cache.get(file!)!)) bad.push(`${where}: ${file} has no heading '${section.slice(0, 60)}' (headings: ${cache.get(file!)!.join(" | ")})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("names in docs/ and README.md only source files that exist (docs/architecture.md lists every file of src/)", () => {
    const stale: string[] = [];
    for (const { where, text } of lines()) {
      if (!where.startsWith("docs/") && !where.startsWith("README.md")) continue;
      for (const m of text.matchAll(SOURCE_PATH)) if (!existsSync(join(ROOT, m[1]!))) stale.push(`${where}: ${m[1]}`);
    }
    expect(stale).toEqual([]);
  });

  it("docs/architecture.md lists every file of src/", () => {
    const doc = readFileSync(join(ROOT, "docs", "architecture.md"), "utf8");
    const listed = new Set([...doc.matchAll(/^(src\/\S+\.ts)\s/gm)].map((m) => m[1]));
    const unlisted = walk(join(ROOT, "src"))
      .map((f) => relative(ROOT, f).split("\\").join("/"))
      .filter((f) => f.endsWith(".ts") && !listed.has(f));
    expect(unlisted).toEqual([]);
  });

  it("the heading check tells a heading from a longer or different name", () => {
    const heads = ["Audit", "No value in argv, logs or errors", "Build flags"];
    expect(namesHeading("Audit).", heads)).toBe(true);
    expect(namesHeading("No value in argv, logs or errors: …", heads)).toBe(true);
    expect(namesHeading("Auditing", heads)).toBe(false);
    expect(namesHeading("Build", heads)).toBe(false);
    expect(namesHeading("Build flags", heads)).toBe(true);
  });
});
