// The configuration: each variable's default, a valid value, a bad one; secrets never printed.
import { describe, expect, it } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { inspect } from "node:util";
import { config, loadConfig, type RawEnv } from "../src/config.ts";
import { PROVIDERS } from "../src/oauth/providers.ts";

const load = (env: RawEnv, platform: NodeJS.Platform = "linux") => loadConfig(env, platform, "/home/u", "/work");

describe("loadConfig", () => {
  it("is frozen, read once for the process", () => {
    const c = load({ MCB_DEBUG: "1" });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.store)).toBe(true);
    expect(Object.isFrozen(c.login)).toBe(true);
    expect(Object.isFrozen(c.inherited)).toBe(true);
    expect(() => {
      (c as { debug: boolean }).debug = false;
    }).toThrow();
    expect(config()).toBe(config());
  });

  it("data dir: MCB_HOME, else the platform's per-user dir (an empty MCB_HOME is unset)", () => {
    expect(load({}).dataDir).toBe("/home/u/.local/share/mcp-credentials-broker");
    expect(load({ MCB_HOME: "/x" }).dataDir).toBe("/x");
    expect(load({ MCB_HOME: "", XDG_DATA_HOME: "/xdg" }).dataDir).toBe("/xdg/mcp-credentials-broker");
    expect(load({}, "darwin").dataDir).toBe("/home/u/Library/Application Support/mcp-credentials-broker");
  });

  it("MCB_DEBUG and NO_COLOR: off by default; NO_COLOR counts when set to anything", () => {
    expect(load({}).debug).toBe(false);
    expect(load({ MCB_DEBUG: "1" }).debug).toBe(true);
    expect(load({}).noColor).toBe(false);
    expect(load({ NO_COLOR: "" }).noColor).toBe(true);
  });

  it("MCB_STORE is kept as given (parsed with --store, which wins), MCB_KEYCHAIN_SERVICE when not empty", () => {
    expect(load({}).store.choice).toBeUndefined();
    expect(load({ MCB_STORE: "file" }).store.choice).toBe("file");
    expect(load({ MCB_STORE: "vault" }).store.choice).toBe("vault");
    expect(load({}).store.keychainService).toBeUndefined();
    expect(load({ MCB_KEYCHAIN_SERVICE: "" }).store.keychainService).toBeUndefined();
    expect(load({ MCB_KEYCHAIN_SERVICE: "work" }).store.keychainService).toBe("work");
    expect(load({ MCB_STORE_KEY: "pass phrase" }).store.key).toBe("pass phrase");
  });

  it("MCB_AUDIT_MAX_BYTES: the log's default when unset; a bad value throws INVALID_INPUT where it is used, not at load", () => {
    expect(load({}).auditMaxBytes).toBeUndefined();
    expect(load({ MCB_AUDIT_MAX_BYTES: "" }).auditMaxBytes).toBeUndefined();
    expect(load({ MCB_AUDIT_MAX_BYTES: "2048" }).auditMaxBytes).toBe(2048);
    for (const bad of ["1023", "1.5k", "lots"]) {
      const c = load({ MCB_AUDIT_MAX_BYTES: bad });
      expect(() => c.auditMaxBytes).toThrow(`MCB_AUDIT_MAX_BYTES must be a whole number of bytes, at least 1024 (got '${bad}').`);
      expect(() => c.auditMaxBytes).toThrow(expect.objectContaining({ code: "INVALID_INPUT" }));
    }
  });

  it("MCB_LOGIN_TIMEOUT: 300 s by default, 1-3600; a bad value is ignored with a warning", () => {
    expect(load({}).login.timeoutMs).toBe(300_000);
    expect(load({ MCB_LOGIN_TIMEOUT: "20" }).login.timeoutMs).toBe(20_000);
    const c = load({ MCB_LOGIN_TIMEOUT: "0" });
    expect(c.login.timeoutMs).toBe(300_000);
    expect(c.warnings).toEqual([{ variable: "MCB_LOGIN_TIMEOUT", message: 'ignoring MCB_LOGIN_TIMEOUT="0": expected a whole number from 1 to 3600' }]);
  });

  it("MCB_CALLBACK_PORT: unset by default (the login's own), 1-65535; a bad value is ignored with a warning", () => {
    expect(load({}).login.port).toBeUndefined();
    expect(load({ MCB_CALLBACK_PORT: "9999" }).login.port).toBe(9999);
    const c = load({ MCB_CALLBACK_PORT: "70000" });
    expect(c.login.port).toBeUndefined();
    expect(c.warnings.map((w) => w.variable)).toEqual(["MCB_CALLBACK_PORT"]);
    expect(c.warnings[0]!.message).toContain("MCB_CALLBACK_PORT must be a TCP port number");
  });

  it("MCB_APPROVAL_TIMEOUT: 120 s by default, 1-3600; a bad value is ignored with a warning", () => {
    expect(load({}).approvalTimeoutMs).toBe(120_000);
    expect(load({ MCB_APPROVAL_TIMEOUT: "2" }).approvalTimeoutMs).toBe(2_000);
    const c = load({ MCB_APPROVAL_TIMEOUT: "3601" });
    expect(c.approvalTimeoutMs).toBe(120_000);
    expect(c.warnings).toEqual([{ variable: "MCB_APPROVAL_TIMEOUT", message: 'ignoring MCB_APPROVAL_TIMEOUT="3601": expected a whole number of seconds from 1 to 3600' }]);
    expect(load({}).warnings).toEqual([]);
  });

  it("JWT_SECRET: unset (ES256) when empty", () => {
    expect(load({}).jwtSecret).toBeUndefined();
    expect(load({ JWT_SECRET: "" }).jwtSecret).toBeUndefined();
    expect(load({ JWT_SECRET: "s3cret" }).jwtSecret).toBe("s3cret");
  });

  it("provider variables: every preset's variables are kept, nothing else", () => {
    const names = Object.values(PROVIDERS).flatMap((p) => [...p.clientIdVars, ...p.clientSecretVars, ...p.requiredVars]);
    const env = Object.fromEntries([...names, "OAUTH2_ISSUER", "OKTA_DOMAIN", "AZURE_TENANT_ID", "GITHUB_HOST", "HTTPS_PROXY", "MCB_PROXY_RESOLVES_NAMES"].map((n) => [n, `v-${n}`]));
    const c = load({ ...env, HOME: "/home/u", UPSTREAM_MCP_URL: "https://x" });
    expect({ ...c.oauthVars }).toEqual(env);
  });

  it("remote variables: mcp_auth_proxy's set, nothing else", () => {
    const c = load({ UPSTREAM_MCP_URL: "https://mcp.example.com/mcp", PORT: "8080", CLIENT_SECRET: "cs", IDP_ID_TOKEN: "t", GITHUB_CLIENT_ID: "g" });
    expect({ ...c.remoteVars }).toEqual({ UPSTREAM_MCP_URL: "https://mcp.example.com/mcp", PORT: "8080", CLIENT_SECRET: "cs", IDP_ID_TOKEN: "t" });
  });

  it("browser: BROWSER (trimmed), a display (DISPLAY or WAYLAND_DISPLAY), SystemRoot", () => {
    expect(load({}).browser).toEqual({ display: false });
    expect(load({ BROWSER: " /bin/b ", WAYLAND_DISPLAY: "wayland-0" }).browser).toEqual({ override: "/bin/b", display: true });
    expect(load({ BROWSER: "  ", DISPLAY: ":0", SYSTEMROOT: "D:\\Win" }).browser).toEqual({ display: true, systemRoot: "D:\\Win" });
  });

  it("PATH (Path on Windows), APPDATA and XDG_CONFIG_HOME", () => {
    expect(load({}).path).toBe("");
    expect(load({ PATH: "/usr/bin" }).path).toBe("/usr/bin");
    expect(load({ Path: "C:\\bin" }, "win32").path).toBe("C:\\bin");
    expect(load({ APPDATA: "C:\\a", XDG_CONFIG_HOME: "/cfg" })).toMatchObject({ appData: "C:\\a", xdgConfigHome: "/cfg" });
  });

  it("the inherited environment is the whole environment, unset names dropped", () => {
    const c = load({ A: "1", B: undefined, DBUS_SESSION_BUS_ADDRESS: "unix:path=/x" });
    expect({ ...c.inherited }).toEqual({ A: "1", DBUS_SESSION_BUS_ADDRESS: "unix:path=/x" });
  });
});

describe("secrets in the config are never printed by accident", () => {
  const SECRETS = { MCB_STORE_KEY: "canary-store-key", JWT_SECRET: "canary-jwt", GITHUB_CLIENT_SECRET: "canary-gh", CLIENT_SECRET: "canary-remote", IDP_ID_TOKEN: "canary-idp", OTHER: "canary-inherited" };
  const c = load({ ...SECRETS, MCB_STORE: "file", MCB_DEBUG: "1" });
  const printed = [
    JSON.stringify(c),
    JSON.stringify(c.store),
    JSON.stringify(c.oauthVars),
    JSON.stringify(c.remoteVars),
    JSON.stringify(c.inherited),
    String(Object.keys(c)),
    inspect(c, { depth: 5 }),
    inspect(c.inherited),
    inspect(c.store),
    Bun.inspect(c),
    Bun.inspect(c.oauthVars),
    `${c}`,
  ];

  it("JSON, inspect, console: none holds a value", () => {
    for (const text of printed) for (const v of Object.values(SECRETS)) expect(text).not.toContain(v);
  });

  it("but says which are set, and shows the plain fields", () => {
    const json = JSON.parse(JSON.stringify(c));
    expect(json).toMatchObject({ debug: true, store: { choice: "file", key: "[set, not shown]" }, jwtSecret: "[set, not shown]" });
    expect(JSON.stringify(c.inherited)).toMatch(/^"\[inherited environment: \d+ variable\(s\), not shown\]"$/);
    expect(inspect(c)).toContain("debug: true");
  });

  it("the secrets are still there for the code that needs them", () => {
    expect(c.store.key).toBe("canary-store-key");
    expect(c.jwtSecret).toBe("canary-jwt");
    expect(c.oauthVars.GITHUB_CLIENT_SECRET).toBe("canary-gh");
    expect(c.remoteVars.CLIENT_SECRET).toBe("canary-remote");
    expect(c.inherited.OTHER).toBe("canary-inherited");
    // Spread for a child's environment: the variables, not the redacting toJSON.
    expect({ ...c.inherited }).toEqual({ ...SECRETS, MCB_STORE: "file", MCB_DEBUG: "1" });
  });
});

describe("the environment is read in one place", () => {
  // src/config.ts reads it; the composition root (src/runtime.ts) may, though today it does not.
  const ALLOWED = new Set(["src/config.ts", "src/runtime.ts"]);
  const SRC = join(import.meta.dir, "..", "src");

  function files(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
  }

  it("no other file under src/ reads process.env (or Bun.env, import.meta.env)", () => {
    const readers = files(SRC)
      .map((f) => relative(join(SRC, ".."), f).replaceAll("\\", "/"))
      .filter((f) => !ALLOWED.has(f) && /\bprocess\.env\b|\bprocess\[["']env["']\]|\bBun\.env\b|\bimport\.meta\.env\b/.test(readFileSync(join(SRC, "..", f), "utf8")));
    expect(readers).toEqual([]);
  });
});
