// The layer rule (docs/architecture.md "Layers"): src/core/ owns its ports and rules and
// imports nothing from the adapters — only other core files, src/errors.ts, npm packages the
// project depends on, and node: builtins. This walks every file under src/core/ and resolves
// each static import, re-export and dynamic import.
import { describe, expect, it } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const CORE = join(ROOT, "src", "core");
/** Files outside core/ that core may import: the one typed error every layer shares. */
const ALLOWED_OUTSIDE = new Set([join(ROOT, "src", "errors.ts")]);
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
const PACKAGES = new Set(Object.keys(pkg.dependencies ?? {}));

/** Every module specifier in a file: `import … from`, `export … from`, side-effect `import "…"`, `import("…")`. */
export function specifiers(source: string): string[] {
  const out: string[] = [];
  const patterns = [/\b(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/g, /\bimport\s*["']([^"']+)["']/g, /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[1]!);
  return out;
}

/** What is wrong with one import of `file` (a path under src/core/), or null when the rule allows it. */
export function violation(file: string, spec: string): string | null {
  if (spec.startsWith("node:")) return null;
  if (spec.startsWith(".")) {
    const target = resolve(dirname(file), spec);
    if (target.startsWith(CORE + sep) || ALLOWED_OUTSIDE.has(target)) return null;
    return `${relative(ROOT, file)} imports ${relative(ROOT, target)}`;
  }
  // A bare specifier: an npm dependency (or a subpath of one), never a builtin without node:.
  const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
  return PACKAGES.has(name) ? null : `${relative(ROOT, file)} imports '${spec}', which is neither a dependency in package.json nor a node: builtin`;
}

function coreFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? coreFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

describe("layers: src/core/ imports no adapter", () => {
  it("every import of every src/core/ file is a core file, src/errors.ts, a dependency or a node: builtin", () => {
    const files = coreFiles(CORE);
    expect(files.length).toBeGreaterThan(10);
    const bad = files.flatMap((f) => specifiers(readFileSync(f, "utf8")).flatMap((s) => violation(f, s) ?? []));
    expect(bad).toEqual([]);
  });

  it("catches what the core imported before the ports moved into it (broker.ts at b7e1936)", () => {
    const before = `import { randomBytes } from "node:crypto";
import { BrokerError } from "../errors.ts";
import type { LoginUi } from "../oauth/oauth-deps.ts";
import { isUnusable, loginRequired, needsRefresh } from "./expiry.ts";
import type { LoginRequest, LoginResult } from "../oauth/login.ts";
import type { RevocationOutcome } from "../oauth/revoke.ts";
import type { LockOptions } from "../files/lock-file.ts";
import {
  isInternalName,
  type Store,
} from "./store.ts";
const lazy = () => import("../remote/session.ts");
export { x } from "../store/memory.ts";
import "crypto";`;
    const file = join(CORE, "broker.ts");
    expect(specifiers(before).flatMap((s) => violation(file, s) ?? [])).toEqual([
      "src/core/broker.ts imports src/oauth/oauth-deps.ts",
      "src/core/broker.ts imports src/oauth/login.ts",
      "src/core/broker.ts imports src/oauth/revoke.ts",
      "src/core/broker.ts imports src/files/lock-file.ts",
      "src/core/broker.ts imports src/store/memory.ts",
      "src/core/broker.ts imports 'crypto', which is neither a dependency in package.json nor a node: builtin",
      "src/core/broker.ts imports src/remote/session.ts",
    ]);
  });
});
