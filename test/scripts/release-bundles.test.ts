// MCP Bundles and the MCP Registry's server.json (issue 17): every manifest passes `mcpb
// validate`, asks for what README documents and maps it into the environment; server.json
// passes the registry's pinned schema; and the linux-x64 bundle from the shared release dry run,
// unpacked and started the way a host does (@anthropic-ai/mcpb's unpackExtension and
// getMcpConfigForManifest, then the SDK's Client over stdio), is a working broker.
import { getMcpConfigForManifest, unpackExtension } from "@anthropic-ai/mcpb";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json";
import { PLACEHOLDER_SHA256, sha256Hex } from "../../scripts/release/checksums.ts";
import { bundledExePath, bundleName, bundleTools, MCPB_MANIFEST_VERSION, packBundle, renderManifest } from "../../scripts/release/mcpb.ts";
import { registryName, renderServerJson, SERVER_SCHEMA_PATH, SERVER_SCHEMA_URL } from "../../scripts/release/server-json.ts";
import { exeName, TARGETS } from "../../scripts/release/targets.ts";
import { BUNDLE_SETTINGS, NOT_IN_BUNDLE } from "../../scripts/release/user-config.ts";
import { tools } from "../../src/mcp/tools/index.ts";
import { suiteCanRun } from "../support/requirements.ts";
import { canRunLinuxBinary, DRY_RUN_TARGETS, type DryRun, releaseDryRun, ROOT } from "./release-dry-run.ts";

const MCPB_CLI = join(ROOT, "node_modules", ".bin", "mcpb");
const input = { version: "1.2.3", repo: "acme/mcp-credentials-broker" };
type Manifest = ReturnType<typeof renderManifest> & {
  server: { type: string; entry_point: string; mcp_config: { command: string; args: string[]; env: Record<string, string> } };
  tools: { name: string; description: string }[];
  user_config: Record<string, { type: string; title: string; description: string; default?: unknown; sensitive?: boolean; required?: boolean }>;
  compatibility: { platforms: string[] };
};
const manifestOf = (name: string) => renderManifest(TARGETS.find((t) => t.name === name)!, input) as Manifest;

/** `mcpb validate <manifest.json>`: the CLI's exit code and output. */
function mcpbValidate(manifestPath: string) {
  const r = spawnSync(MCPB_CLI, ["validate", manifestPath], { encoding: "utf8" });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** The registry's server.json schema (draft-07), pinned in scripts/release/schemas/. */
function serverJsonValidator() {
  const ajv = new Ajv({ allErrors: true });
  // OpenAPI's `example` annotates the generated schema; declared so strict mode checks the rest.
  ajv.addVocabulary(["example"]);
  addFormats(ajv);
  return ajv.compile(JSON.parse(readFileSync(SERVER_SCHEMA_PATH, "utf8")));
}

/** The variables named in `columns` (1-based) of the table rows in README's section `heading`. */
function readmeTableVariables(heading: string, columns: number[]): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf(`\n${heading}\n`);
  expect(start).toBeGreaterThan(-1);
  const section = readme.slice(start + heading.length + 2, readme.indexOf("\n## ", start + 1));
  const names = new Set<string>();
  for (const row of section.split("\n").filter((l) => l.startsWith("| "))) {
    const cells = row.split("|");
    for (const c of columns) for (const m of (cells[c] ?? "").matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(m[1]!);
  }
  return [...names];
}

describe("bundle manifests (every target, rendered without building)", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcb-manifests-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(TARGETS.map((t) => t.name))("%s: `mcpb validate` accepts the manifest", (name) => {
    const file = join(dir, name, "manifest.json");
    mkdirSync(join(dir, name));
    writeFileSync(file, `${JSON.stringify(manifestOf(name), null, 2)}\n`);
    const r = mcpbValidate(file);
    expect(r.output).toContain("Manifest schema validation passes!");
    expect(r.code).toBe(0);
  });

  it("rejects a manifest the schema forbids (the validator is not a rubber stamp)", () => {
    const file = join(dir, "broken.json");
    writeFileSync(file, JSON.stringify({ ...manifestOf("linux-x64"), server: { type: "binary", entry_point: "x", mcp_config: {} } }));
    expect(mcpbValidate(file).code).not.toBe(0);
  });

  it.each(TARGETS.map((t) => [t.name, exeName(t), t.os === "windows" ? "win32" : t.os] as const))("%s runs its own binary, server/%s, on %s only", (name, exe, platform) => {
    const m = manifestOf(name);
    expect(m.manifest_version).toBe(MCPB_MANIFEST_VERSION);
    expect(m.server.type).toBe("binary");
    expect(m.server.entry_point).toBe(`server/${exe}`);
    expect(m.server.mcp_config.command).toBe(`\${__dirname}/server/${exe}`);
    expect(m.server.mcp_config.args).toEqual([]);
    expect(m.compatibility).toEqual({ platforms: [platform] });
    expect(m.version).toBe("1.2.3");
  });

  it("lists the tools the server registers, in tools/list order, from their definitions", () => {
    expect(manifestOf("darwin-arm64").tools).toEqual(tools.map((t) => ({ name: t.name, description: t.description })));
    expect(bundleTools().map((t) => t.name)).toContain("resolve_secret");
  });

  it("asks for every variable README documents for the broker, or says why not", () => {
    // The provider table's "client id / secret" and "also" columns; the configuration table's first.
    const documented = [...readmeTableVariables("## Log in with OAuth", [2, 3]), ...readmeTableVariables("## Configuration", [1])];
    expect(documented).toContain("OKTA_DOMAIN");
    expect(documented).toContain("MCB_STORE_KEY");
    const asked = new Set(BUNDLE_SETTINGS.flatMap((s) => [s.env, ...(s.aliases ?? [])]));
    expect(documented.filter((v) => !asked.has(v) && !(v in NOT_IN_BUNDLE))).toEqual([]);
    for (const v of asked) expect(documented).toContain(v);
    for (const v of Object.keys(NOT_IN_BUNDLE)) expect(documented).toContain(v);
  });

  it("README's Claude Desktop section shows every field of the form, the variable it sets, and which are masked", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const start = readme.indexOf("### Claude Desktop: the bundle");
    expect(start).toBeGreaterThan(-1);
    const section = readme.slice(start, readme.indexOf("\n### ", start + 1));
    for (const s of BUNDLE_SETTINGS) {
      expect(section).toContain(`\`${s.env}\``);
      expect(section).toContain(s.sensitive ? `${s.title} 🔒` : s.title);
      if (!s.sensitive) expect(section).not.toContain(`${s.title} 🔒`);
    }
  });

  it("masks exactly the client secrets, the JWT secret and the store passphrase", () => {
    const m = manifestOf("windows-x64");
    const sensitive = BUNDLE_SETTINGS.filter((s) => m.user_config[s.key]!.sensitive === true).map((s) => s.env);
    expect(sensitive.sort()).toEqual(["AZURE_CLIENT_SECRET", "GCP_CLIENT_SECRET", "GITHUB_CLIENT_SECRET", "JWT_SECRET", "MCB_STORE_KEY", "OAUTH2_CLIENT_SECRET", "OKTA_CLIENT_SECRET"]);
    for (const c of Object.values(m.user_config)) if (c.sensitive) expect(c.type).toBe("string");
  });

  it("maps each setting into mcp_config.env, and a host given no settings substitutes every variable", async () => {
    const m = manifestOf("linux-x64");
    expect(Object.keys(m.server.mcp_config.env).sort()).toEqual(BUNDLE_SETTINGS.map((s) => s.env).sort());
    for (const s of BUNDLE_SETTINGS) {
      expect(m.server.mcp_config.env[s.env]).toBe(`\${user_config.${s.key}}`);
      expect(m.user_config[s.key]).toMatchObject({ title: s.title, required: false, default: s.default });
    }
    // Every setting has a default, so an untouched form never leaves `${user_config.X}` as a value.
    const cfg = await getMcpConfigForManifest({ manifest: m as never, extensionPath: "/ext", systemDirs: { HOME: "/home/u" }, userConfig: {}, pathSeparator: "/" });
    expect(JSON.stringify(cfg)).not.toContain("${");
    expect(cfg!.env).toMatchObject({ GITHUB_CLIENT_ID: "", MCB_STORE: "auto", MCB_HOME: "", MCB_CALLBACK_PORT: "9876", MCB_LOGIN_TIMEOUT: "300" });
  });
});

describe("packBundle", () => {
  const t = TARGETS.find((x) => x.name === "linux-x64")!;
  const exe = new Uint8Array(Buffer.from("#!/bin/sh\necho not really a broker\n"));
  const license = new Uint8Array(Buffer.from("MIT License\n"));
  const pack = (mtime: number) => packBundle(t, { ...input, exe, license, mtime });

  it("is byte-identical for the same inputs, and differs when the mtime does", () => {
    expect(Buffer.compare(pack(1_700_000_000), pack(1_700_000_000))).toBe(0);
    expect(Buffer.compare(pack(1_700_000_000), pack(1_800_000_000))).not.toBe(0);
  });

  it("unpacks with mcpb's own unpacker: manifest.json, LICENSE and the binary with mode 0755", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mcb-bundle-"));
    writeFileSync(join(dir, "b.mcpb"), pack(1_700_000_000));
    expect(await unpackExtension({ mcpbPath: join(dir, "b.mcpb"), outputDir: join(dir, "x"), silent: true })).toBe(true);
    expect(readdirSync(join(dir, "x")).sort()).toEqual(["LICENSE", "manifest.json", "server"]);
    expect(statSync(join(dir, "x", bundledExePath(t))).mode & 0o777).toBe(0o755);
    expect(statSync(join(dir, "x", "manifest.json")).mode & 0o777).toBe(0o644);
    expect(JSON.parse(readFileSync(join(dir, "x", "manifest.json"), "utf8"))).toEqual(renderManifest(t, input));
    expect(readFileSync(join(dir, "x", bundledExePath(t)))).toEqual(Buffer.from(exe));
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("server.json", () => {
  const sums = new Map(TARGETS.map((t, i) => [bundleName(t), String(i + 1).repeat(64)]));
  const full = { ...input, sums, allowMissing: false };
  const validate = serverJsonValidator();

  it("is the registry's schema, pinned: its $id is the $schema we declare, its hash the one schemas/README.md records", () => {
    const raw = readFileSync(SERVER_SCHEMA_PATH, "utf8");
    expect(JSON.parse(raw).$id).toBe(SERVER_SCHEMA_URL);
    const recorded = /SHA-256 of this file \| `([0-9a-f]{64})`/.exec(readFileSync(join(SERVER_SCHEMA_PATH, "..", "README.md"), "utf8"))?.[1];
    expect(sha256Hex(Buffer.from(raw))).toBe(recorded!);
  });

  it("validates against the pinned schema", () => {
    const doc = JSON.parse(renderServerJson(full));
    expect(validate(doc) ? [] : validate.errors).toEqual([]);
    expect(doc.$schema).toBe(SERVER_SCHEMA_URL);
  });

  it.each([
    ["a description over 100 characters", (d: Record<string, any>) => (d.description = "x".repeat(101))],
    ["a name without a namespace", (d: Record<string, any>) => (d.name = "mcp-credentials-broker")],
    ["an upper-case fileSha256", (d: Record<string, any>) => (d.packages[0].fileSha256 = "A".repeat(64))],
    ["a package without a transport", (d: Record<string, any>) => delete d.packages[0].transport],
    ["package version latest", (d: Record<string, any>) => (d.packages[0].version = "latest")],
  ])("the schema rejects %s (the validator is live)", (_, spoil) => {
    const doc = JSON.parse(renderServerJson(full));
    spoil(doc);
    expect(validate(doc)).toBe(false);
  });

  it("lists each target's .mcpb as a GitHub release download with its SHA-256, over stdio, with the bundle's settings", () => {
    const doc = JSON.parse(renderServerJson(full));
    expect(doc.name).toBe("io.github.acme/mcp-credentials-broker");
    expect(registryName("OWNER/mcp-credentials-broker")).toBe("io.github.OWNER/mcp-credentials-broker");
    expect(doc.version).toBe("1.2.3");
    expect(doc.repository).toEqual({ url: "https://github.com/acme/mcp-credentials-broker", source: "github" });
    expect(doc.packages.map((p: { identifier: string }) => p.identifier)).toEqual(TARGETS.map((t) => `https://github.com/acme/mcp-credentials-broker/releases/download/v1.2.3/mcp-credentials-broker-${t.name}.mcpb`));
    for (const [i, p] of (doc.packages as Record<string, any>[]).entries()) {
      expect(p).toMatchObject({ registryType: "mcpb", version: "1.2.3", fileSha256: String(i + 1).repeat(64), transport: { type: "stdio" } });
      expect(p.identifier.toLowerCase()).toContain("mcp"); // the registry refuses an MCPB URL without "mcp"
      expect(p.environmentVariables.map((e: { name: string }) => e.name)).toEqual(BUNDLE_SETTINGS.map((s) => s.env));
      const secret = p.environmentVariables.filter((e: { isSecret?: boolean }) => e.isSecret).map((e: { name: string }) => e.name);
      expect(secret).toEqual(BUNDLE_SETTINGS.filter((s) => s.sensitive).map((s) => s.env));
    }
    expect(doc.packages[0].environmentVariables.find((e: { name: string }) => e.name === "MCB_STORE")).toMatchObject({ default: "auto", choices: ["auto", "keychain", "file", "memory"] });
  });

  it("refuses a missing bundle hash in a real release, and marks it as a placeholder in a dry run", () => {
    const partial = new Map([...sums].filter(([name]) => !name.includes("linux-arm64")));
    expect(() => renderServerJson({ ...full, sums: partial })).toThrow("SHA256SUMS has no entry for mcp-credentials-broker-linux-arm64.mcpb");
    expect(renderServerJson({ ...full, sums: partial, allowMissing: true })).toContain(`"fileSha256": "${PLACEHOLDER_SHA256}"`);
  });
});

describe.skipIf(!canRunLinuxBinary)("bundles of the release dry run (linux-x64, darwin-arm64, windows-x64)", () => {
  let d: DryRun;
  let tmp: string;

  beforeAll(() => {
    d = releaseDryRun();
    tmp = join(d.tmp, "bundles-test");
    mkdirSync(tmp);
  }, 300_000);

  it("bundles each built binary under server/ with a manifest that `mcpb validate` accepts", () => {
    if (!suiteCanRun("release bundles", ["unzip"], "apt-get install -y unzip")) return;
    for (const name of DRY_RUN_TARGETS) {
      const t = TARGETS.find((x) => x.name === name)!;
      const file = join(d.rel, bundleName(t));
      const listing = spawnSync("unzip", ["-Z1", file], { encoding: "utf8" }).stdout.trim().split("\n");
      expect(listing).toEqual(["manifest.json", "LICENSE", bundledExePath(t)]);
      const manifest = spawnSync("unzip", ["-p", file, "manifest.json"], { encoding: "utf8" }).stdout;
      expect(JSON.parse(manifest)).toEqual(renderManifest(t, { version: pkg.version, repo: "OWNER/mcp-credentials-broker" }));
      mkdirSync(join(tmp, name));
      writeFileSync(join(tmp, name, "manifest.json"), manifest);
      const r = mcpbValidate(join(tmp, name, "manifest.json"));
      expect(r.output).toContain("Manifest schema validation passes!");
      expect(r.code).toBe(0);
      // The built binary, by size and CRC-32 in the zip's directory (cheaper than piping 110 MB
      // out per target). The Windows bundle shares its deflated binary with the Windows zip:
      // `unzip -t` inflates it and checks it against that CRC. (The linux-x64 one runs below.)
      const built = readFileSync(join(d.out, name, exeName(t)));
      const row = spawnSync("unzip", ["-v", file], { encoding: "utf8" }).stdout.split("\n").find((l) => l.endsWith(` ${bundledExePath(t)}`))!;
      const [length, , , , , , crc] = row.trim().split(/\s+/);
      expect([Number(length), crc]).toEqual([built.length, Bun.hash.crc32(built).toString(16).padStart(8, "0")]);
      if (t.os === "windows") expect(spawnSync("unzip", ["-tq", file], { encoding: "utf8" }).stdout).toContain("No errors detected");
    }
  }, 60_000);

  it("writes server.json that passes the registry schema, with the bundles' hashes from SHA256SUMS", () => {
    const doc = JSON.parse(readFileSync(join(d.rel, "server.json"), "utf8"));
    const validate = serverJsonValidator();
    expect(validate(doc) ? [] : validate.errors).toEqual([]);
    for (const p of doc.packages as { identifier: string; fileSha256: string }[]) {
      const asset = p.identifier.slice(p.identifier.lastIndexOf("/") + 1);
      expect(p.fileSha256).toBe(d.sums.get(asset) ?? PLACEHOLDER_SHA256);
    }
    expect(doc.packages.filter((p: { fileSha256: string }) => p.fileSha256 !== PLACEHOLDER_SHA256)).toHaveLength(DRY_RUN_TARGETS.length);
  });

  it("starts from the unpacked linux-x64 bundle as a host does: initialize, tools/list = the manifest's tools, store + get + resolve", async () => {
    // Where a host unpacks a bundle, and what the user typed into its settings form.
    const ext = join(tmp, "host", "extensions", "mcp-credentials-broker");
    expect(await unpackExtension({ mcpbPath: join(d.rel, "mcp-credentials-broker-linux-x64.mcpb"), outputDir: ext, silent: true })).toBe(true);
    const manifest = JSON.parse(readFileSync(join(ext, "manifest.json"), "utf8"));
    const dataDir = join(tmp, "host", "data");
    const userConfig = { data_dir: dataDir, store: "file", store_key: "correct horse battery staple", github_client_id: "Iv1.bundle-test" };
    const home = join(tmp, "host", "home");
    const systemDirs = { HOME: home, DESKTOP: join(home, "Desktop"), DOCUMENTS: join(home, "Documents"), DOWNLOADS: join(home, "Downloads") };
    const cfg = (await getMcpConfigForManifest({ manifest, extensionPath: ext, systemDirs, userConfig, pathSeparator: "/" }))!;
    expect(JSON.stringify(cfg)).not.toContain("${");
    expect(cfg.command).toBe(join(ext, "server", "mcp-credentials-broker"));
    expect(cfg.env).toMatchObject({ MCB_HOME: dataDir, MCB_STORE: "file", MCB_STORE_KEY: userConfig.store_key, GITHUB_CLIENT_ID: "Iv1.bundle-test", GITHUB_CLIENT_SECRET: "" });

    const cwd = join(tmp, "host", "cwd");
    mkdirSync(cwd, { recursive: true });
    // The SDK's stdio transport spawns without a shell, with its default environment plus cfg.env.
    const transport = new StdioClientTransport({ command: cfg.command, args: cfg.args ?? [], env: cfg.env ?? {}, cwd, stderr: "pipe" });
    let stderr = "";
    transport.stderr?.on("data", (c) => (stderr += c));
    const client = new Client({ name: "bundle-host-test", version: "1.0.0" });
    const value = `bundle-canary-${crypto.randomUUID()}`;
    try {
      await client.connect(transport);
      expect(client.getServerVersion()).toMatchObject({ name: "mcp-credentials-broker", version: pkg.version });

      const listed = await client.listTools();
      expect(listed.tools.map((t) => ({ name: t.name, description: t.description }))).toEqual(manifest.tools);

      const call = async (name: string, args: Record<string, unknown>) => {
        const r = await client.callTool({ name, arguments: args });
        expect(r.isError ?? false).toBe(false);
        return r.structuredContent as Record<string, any>;
      };
      expect(await call("store_secret", { name: "bundle-test", value })).toMatchObject({ success: true });
      const ref = (await call("get_secret", { name: "bundle-test", purpose: "prove the bundle works" })).reference;
      expect(ref.name).toBe("bundle-test");
      expect(await call("resolve_secret", { reference_id: ref.id })).toEqual({ success: true, value });
    } finally {
      await client.close();
    }
    // The settings reached the broker: the file store in MCB_HOME, sealed with MCB_STORE_KEY.
    const stored = readFileSync(join(dataDir, "secrets.jsonl"), "utf8");
    expect(stored.length).toBeGreaterThan(0);
    expect(stored).not.toContain(value);
    expect(stderr).not.toContain(value);
  }, 60_000);
});
