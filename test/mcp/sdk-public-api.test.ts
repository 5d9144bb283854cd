// The MCP SDK is used through its public API only (issue 15): no file in src/ reaches into the
// SDK's underscore-prefixed members (`._requestHandlers`, `["_registeredTools"]`, …) or imports a
// module path outside its documented surface (server/zod-compat.js and the like). Private names
// can change in any SDK release, and a security tool's input validation must not depend on them.
import { describe, expect, it } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..", "..");
const SDK = "@modelcontextprotocol/sdk";

/**
 * The SDK's documented module paths (its README and docs/ import from these); anything else,
 * e.g. server/zod-compat.js or server/zod-json-schema-compat.js, is an implementation detail.
 */
const DOCUMENTED = new Set([
  "server/index.js",
  "server/mcp.js",
  "server/stdio.js",
  "server/streamableHttp.js",
  "server/sse.js",
  "client/index.js",
  "client/stdio.js",
  "client/sse.js",
  "client/streamableHttp.js",
  "client/auth.js",
  "types.js",
  "shared/transport.js",
  "shared/protocol.js",
]);

/** Fields whose names begin with an underscore in the MCP specification itself, not in the SDK. */
const SPEC_FIELDS = new Set(["_meta"]);

// Bun's transpiler drops comments and types, so prose that names a private member (as this
// file's header does) is not flagged; imports are read from the source so `import type` counts.
const transpiler = new Bun.Transpiler({ loader: "ts", trimUnusedImports: false });

/** Every use of the SDK outside its public API in one file, as readable findings. */
export function sdkApiViolations(file: string, source: string): string[] {
  const found: string[] = [];
  const specifiers = source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["'`](@modelcontextprotocol\/sdk(?:\/[^"'`]*)?)["'`]/gm);
  for (const [, spec] of specifiers) {
    const sub = spec!.slice(SDK.length + 1);
    if (!DOCUMENTED.has(sub)) found.push(`${file}: imports ${spec}, which is not part of the SDK's documented surface`);
  }
  const code = transpiler.transformSync(source);
  const members = [
    ...code.matchAll(/\??\.\s*(_[A-Za-z0-9_$]+)/g), // x._name, x?._name
    ...code.matchAll(/\[\s*["'`](_[A-Za-z0-9_$]+)["'`]\s*\]/g), // x["_name"]
    ...code.matchAll(/[{,]\s*(_[A-Za-z0-9_$]+)\s*(?::[^,}]*)?(?=[,}])[^=]*}\s*=/g), // const { _name } = x
  ];
  for (const [, name] of members) {
    if (!SPEC_FIELDS.has(name!)) found.push(`${file}: touches the underscore-prefixed member ${name}, private to the SDK`);
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|tsx|js|mjs|cjs)$/.test(e.name) ? [p] : [];
  });
}

describe("the MCP SDK through its public API only", () => {
  it("no file in src/ touches the SDK's private members or imports an undocumented module", () => {
    const files = sourceFiles(join(ROOT, "src"));
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((f) => sdkApiViolations(relative(ROOT, f), readFileSync(f, "utf8")));
    expect(found).toEqual([]);
  });

  it("flags what src/mcp/server.ts did before (b7e1936): private hooks, internals and zod-compat.js", () => {
    // Lines of the old server, verbatim.
    const old = `
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { getParseErrorMessage } from "@modelcontextprotocol/sdk/server/zod-compat.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
declare const server: McpServer;
const registered = (server as unknown as { _registeredTools: Record<string, unknown> })._registeredTools;
const requestHandlers = (server.server as unknown as { _requestHandlers: Map<string, unknown> })._requestHandlers;
`;
    const found = sdkApiViolations("old/server.ts", old);
    expect(found).toEqual([
      "old/server.ts: imports @modelcontextprotocol/sdk/server/zod-compat.js, which is not part of the SDK's documented surface",
      "old/server.ts: touches the underscore-prefixed member _registeredTools, private to the SDK",
      "old/server.ts: touches the underscore-prefixed member _requestHandlers, private to the SDK",
    ]);
  });

  it("flags every spelling of a private member, and allows the spec's own _meta", () => {
    const cases: [string, boolean][] = [
      ["x._requestHandlers.set('a', f);", true],
      ["x?._serverInfo;", true],
      ['x["_registeredTools"];', true],
      ["x[`_capabilities`];", true],
      ["const { _transport } = x;", true],
      ["const { _transport: t, other } = x;", true],
      ['await import("@modelcontextprotocol/sdk/server/zod-json-schema-compat.js");', true],
      ['export { x } from "@modelcontextprotocol/sdk/shared/stdio.js";', true],
      ["const p = extra._meta?.progressToken;", false],
      ['const m = params["_meta"];', false],
      ["// comments may name x._requestHandlers", false],
      ['import { Server } from "@modelcontextprotocol/sdk/server/index.js";', false],
      ["const unused = (_a: number, _b: string) => _a;", false],
    ];
    for (const [line, flagged] of cases) expect([line, sdkApiViolations("case.ts", line).length > 0]).toEqual([line, flagged]);
  });
});
