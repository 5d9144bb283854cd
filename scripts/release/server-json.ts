// Renders server.json for the MCP Registry: the server's name, version and description, and
// each target's .mcpb (with its SHA-256 from SHA256SUMS) as a package, validated in
// test/scripts against the registry's published schema, pinned in schemas/ beside this file.
import { join } from "node:path";
import { hashOf, type PackageInput, releaseBase } from "./formula.ts";
import { bundleName } from "./mcpb.ts";
import { TARGETS } from "./targets.ts";
import { registryEnvironmentVariables } from "./user-config.ts";

/** The schema version server.json declares; schemas/ holds that exact file (see its README). */
export const SERVER_SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";

/** The pinned copy of SERVER_SCHEMA_URL in this repository. */
export const SERVER_SCHEMA_PATH = join(import.meta.dir, "schemas", "server.schema.2025-12-11.json");

/**
 * The registry name: a GitHub-authenticated publisher owns the `io.github.<owner>/` namespace
 * (registry docs, "Namespace Authentication"); the repository name follows the slash.
 */
export function registryName(repo: string): string {
  const [owner, name] = repo.split("/");
  return `io.github.${owner}/${name}`;
}

/** server.json as pretty-printed JSON. `version` and `repo` are validated by the caller. */
export function renderServerJson(input: PackageInput): string {
  const home = `https://github.com/${input.repo}`;
  const server = {
    $schema: SERVER_SCHEMA_URL,
    name: registryName(input.repo),
    title: "MCP Credentials Broker",
    // The registry caps descriptions at 100 characters (schema ServerDetail.description).
    description: "MCP server that keeps AI agents' credentials out of their prompts",
    version: input.version,
    repository: { url: home, source: "github" },
    websiteUrl: `${home}#readme`,
    // registryType "mcpb": a GitHub release download whose URL contains "mcp", with its
    // fileSha256, which clients check before running it (registry docs, "MCPB Packages").
    // The registry has no platform field: each URL names its target.
    packages: TARGETS.map((t) => ({
      registryType: "mcpb",
      identifier: `${releaseBase(input)}/${bundleName(t)}`,
      version: input.version,
      fileSha256: hashOf(input, bundleName(t)),
      transport: { type: "stdio" },
      environmentVariables: registryEnvironmentVariables(),
    })),
  };
  return `${JSON.stringify(server, null, 2)}\n`;
}
