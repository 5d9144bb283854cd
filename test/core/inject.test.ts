import { describe, expect, it } from "bun:test";
import { isWithheldVariable, parseEnvFile, parseEnvFlag, resolveInjection } from "../../src/core/inject.ts";
import { BrokerError } from "../../src/errors.ts";
import { memoryBroker } from "./fixtures.ts";

const cli = { client: "unit" };

describe("parseEnvFlag", () => {
  it("reads VAR=secret:<name>", () => {
    expect(parseEnvFlag("GITHUB_TOKEN=secret:github-token")).toEqual({ variable: "GITHUB_TOKEN", secret: "github-token" });
    expect(parseEnvFlag("_X1=secret:a=b:c")).toEqual({ variable: "_X1", secret: "a=b:c" });
  });

  it("reads a bare VAR as 'hand it on from this environment' (docker run -e VAR)", () => {
    expect(parseEnvFlag("GITHUB_CLIENT_SECRET")).toEqual({ variable: "GITHUB_CLIENT_SECRET", inherit: true });
  });

  it.each(["TOKEN=ghp_plainvalue123", "TOKEN=secret:", "TOKEN=", "1X=secret:a", "1X", "A-B=secret:a", "=secret:a"])("refuses %j without echoing a value", (raw) => {
    let err: unknown;
    try {
      parseEnvFlag(raw);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BrokerError);
    expect((err as BrokerError).code).toBe("INVALID_INPUT");
    expect((err as BrokerError).message).not.toContain("ghp_plainvalue123");
  });
});

describe("parseEnvFile", () => {
  it("reads secrets and plain values, comments, export and quotes", () => {
    const text = [
      "# tokens for the GitHub server",
      "",
      "GITHUB_TOKEN=secret:github-token",
      "export API_KEY = 'secret:api key'",
      'GREETING="hello world"',
      "EMPTY=",
      "URL=https://example.com/?a=b",
      "  INDENTED=secret:x  ",
    ].join("\r\n");
    expect(parseEnvFile(text, ".env")).toEqual([
      { variable: "GITHUB_TOKEN", secret: "github-token" },
      { variable: "API_KEY", secret: "api key" },
      { variable: "GREETING", value: "hello world" },
      { variable: "EMPTY", value: "" },
      { variable: "URL", value: "https://example.com/?a=b" },
      { variable: "INDENTED", secret: "x" },
    ]);
  });

  it.each([["not a pair plain-secret-value-123", 2], ["9X=plain-secret-value-123", 2], ["T=secret:", 2]])("refuses %j naming file:line, never the line", (line, lineNo) => {
    expect(() => parseEnvFile(`A=1\n${line}\n`, "app.env")).toThrow(`app.env:${lineNo}`);
    try {
      parseEnvFile(`A=1\n${line}\n`, "app.env");
    } catch (e) {
      expect((e as Error).message).not.toContain("plain-secret-value-123");
    }
  });
});

describe("resolveInjection", () => {
  it("builds the child's environment: base minus the broker's own secrets, env-file values, then secrets; later bindings win", async () => {
    const { broker, audit } = memoryBroker();
    await broker.storeSecret("gh", "ghp_value_1234567", undefined, cli);
    await broker.storeSecret("other", "other_value_1234567", undefined, cli);
    const base = { PATH: "/bin", HOME: "/home/u", MCB_STORE_KEY: "store-passphrase", JWT_SECRET: "jwt-secret", TOKEN: "inherited" };
    const r = await resolveInjection(
      broker,
      [
        { variable: "TOKEN", secret: "other" },
        { variable: "MODE", value: "ci" },
        { variable: "TOKEN", secret: "gh" },
      ],
      base,
      "github-mcp-server",
    );
    expect(r.env).toEqual({ PATH: "/bin", HOME: "/home/u", TOKEN: "ghp_value_1234567", MODE: "ci" });
    expect(r.masked).toEqual([{ label: "TOKEN", value: "ghp_value_1234567" }]);
    expect(audit.entries.at(-1)).toMatchObject({ event: "inject", name: "gh", env: "TOKEN", client: "run", purpose: "github-mcp-server", outcome: "ok" });
    expect(audit.entries.filter((e) => e.event === "inject")).toHaveLength(1);
  });

  it("lets an env file hand the broker's own variables on deliberately", async () => {
    const { broker } = memoryBroker();
    const r = await resolveInjection(broker, [{ variable: "JWT_SECRET", value: "for-the-child" }], { JWT_SECRET: "broker's" }, "x");
    expect(r.env.JWT_SECRET).toBe("for-the-child");
    expect(r.withheld).toEqual([]);
  });

  it("withholds every credential variable of the broker's own, and hands one on only when --env names it", async () => {
    const { broker } = memoryBroker();
    const credentials = {
      MCB_STORE_KEY: "k",
      JWT_SECRET: "j",
      GITHUB_CLIENT_SECRET: "g",
      GCP_CLIENT_SECRET: "gc",
      GOOGLE_CLIENT_SECRET: "go",
      AZURE_CLIENT_SECRET: "a",
      OKTA_CLIENT_SECRET: "o",
      OAUTH2_CLIENT_SECRET: "o2",
      CLIENT_SECRET: "c",
      CLIENT_SECRET_FILE: "/run/secrets/client",
      PRIVATE_KEY_FILE: "/run/secrets/key.pem",
      IDP_CLIENT_SECRET: "i",
      IDP_ID_TOKEN: "eyJ…",
      Okta_Client_Secret: "windows-cased",
    };
    const base = { PATH: "/bin", GITHUB_CLIENT_ID: "public-id", CLIENT_ID: "public", SECRETARY: "not a credential", ...credentials };
    const r = await resolveInjection(broker, [], base, "x");
    expect(r.env).toEqual({ PATH: "/bin", GITHUB_CLIENT_ID: "public-id", CLIENT_ID: "public", SECRETARY: "not a credential" });
    expect(r.withheld).toEqual(Object.keys(credentials).sort());
    for (const name of Object.keys(credentials)) expect(isWithheldVariable(name)).toBe(true);

    const passed = await resolveInjection(broker, [parseEnvFlag("GITHUB_CLIENT_SECRET"), parseEnvFlag("NOT_SET_HERE")], base, "x");
    expect(passed.env.GITHUB_CLIENT_SECRET).toBe("g");
    expect("NOT_SET_HERE" in passed.env).toBe(false);
    expect(passed.withheld).not.toContain("GITHUB_CLIENT_SECRET");
    expect(passed.env.OAUTH2_CLIENT_SECRET).toBeUndefined();
  });

  it("refuses a value with a NUL byte (an environment variable cannot hold one), naming the variable and never the value", async () => {
    const { broker } = memoryBroker();
    await broker.storeSecret("binary", "bin\0ary-secret-value", undefined, cli);
    await broker.storeSecret("ok", "value-1234567", undefined, cli);
    for (const bindings of [
      [{ variable: "KEY", secret: "binary" }, { variable: "B", secret: "ok" }],
      [{ variable: "KEY", value: "plain\0ary-secret-value" }],
    ]) {
      const err = await resolveInjection(broker, bindings, {}, "server").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BrokerError);
      expect((err as BrokerError).code).toBe("COMMAND_FAILED");
      const msg = (err as BrokerError).message;
      expect(msg).toStartWith("Not starting the command: KEY: ");
      expect(msg).toContain("contains a NUL byte, which an environment variable cannot hold");
      expect(msg).toContain("in a file it reads, or on its stdin");
      expect(msg).not.toContain("ary-secret-value");
      expect(msg).not.toContain("\0");
    }
  });

  it("tries every secret and names all that are missing, with the commands that fix it", async () => {
    const { broker, audit } = memoryBroker();
    await broker.storeSecret("ok", "value-1234567", undefined, cli);
    const err = await resolveInjection(
      broker,
      [
        { variable: "A", secret: "missing-a" },
        { variable: "B", secret: "ok" },
        { variable: "C", secret: "missing-c" },
      ],
      {},
      "server",
    ).catch((e: BrokerError) => e);
    expect(err).toBeInstanceOf(BrokerError);
    expect((err as BrokerError).code).toBe("NOT_FOUND");
    const msg = (err as BrokerError).message;
    expect(msg).toContain("Not starting the command");
    expect(msg).toContain("A: no secret named 'missing-a'");
    expect(msg).toContain("mcp-credentials-broker secret set missing-c");
    expect(msg).toContain("mcp-credentials-broker login <provider> --name missing-a");
    expect(msg).not.toContain("value-1234567");
    expect(audit.entries.filter((e) => e.event === "inject").map((e) => [e.name, e.outcome])).toEqual([
      ["missing-a", "error"],
      ["ok", "ok"],
      ["missing-c", "error"],
    ]);
  });
});
