// `provider add | list | rm` in-process: flags, the client secret from stdin (never argv, never
// printed, never in the audit log), output (human and --json), exit codes, audit lines.
import { describe, expect, it } from "bun:test";
import { auditLines, auditText, cli, refusals, tempHome } from "./harness.ts";

const CLIENT_SECRET = "client-secret-CANARY-77aa66bb";

describe("provider add", () => {
  refusals([
    [["provider", "add"], 2, /Missing required positional argument: NAME/],
    [["provider", "add", "github"], 2, /Missing required argument: --client-id/],
    [["provider", "add", "okta", "--client-id", "0oa1"], 2, /okta needs --domain/],
    [["provider", "add", "github", "--client-id", "x", "--client-secret", "s"], 2, /Unknown flag '--client-secret' for 'provider add'/],
    [["provider", "add", "gitlab", "--client-id", "x"], 1, /Unknown provider 'gitlab'/],
    [["provider", "add", "oauth2", "--client-id", "x", "--issuer", "ftp://idp.example.com"], 1, /Refusing the issuer/],
  ], { input: CLIENT_SECRET });

  it("saves a client with its secret read from stdin, says so, and audits provider-add without the secret", async () => {
    const home = tempHome();
    const r = await cli(home, ["provider", "add", "github", "--client-id", "Iv1.abc", "--host", "ghe.example.com"], { input: `${CLIENT_SECRET}\n` });
    expect(r).toEqual({ code: 0, stdout: "", stderr: "Saved the GitHub client and its secret. Environment variables, when set, still take precedence.\n" });
    expect(auditLines(home).filter((l) => l.event === "provider-add").map((l) => [l.outcome, l.provider, l.client])).toEqual([
      ["intent", "github", "cli"],
      ["ok", "github", "cli"],
    ]);
    expect(auditText(home)).not.toContain(CLIENT_SECRET);
    const list = await cli(home, ["provider", "list"]);
    expect(list.stdout).toContain("github\tprovider add\tclient Iv1.abc (with secret)");
    expect(list.stdout).not.toContain(CLIENT_SECRET);
  });

  it("--public saves no secret and reads no stdin", async () => {
    const home = tempHome();
    const r = await cli(home, ["provider", "add", "oauth2", "--client-id", "cli", "--issuer", "https://idp.example.com", "--public"], { input: CLIENT_SECRET });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^Saved the .* client \(public, no secret\)\. Environment variables, when set, still take precedence\.\n$/);
    const row = JSON.parse((await cli(home, ["provider", "list", "--json"])).stdout).find((p: { provider: string }) => p.provider === "oauth2");
    expect(row).toEqual({ provider: "oauth2", configured: true, source: "provider add", clientId: "cli", hasSecret: false });
  });
});

describe("provider list", () => {
  it("lists every provider: not configured, from the environment (which wins), or saved — never a secret", async () => {
    const home = tempHome();
    await cli(home, ["provider", "add", "google", "--client-id", "saved-id"], { input: CLIENT_SECRET });
    const env = { GOOGLE_CLIENT_ID: "env-id", GOOGLE_CLIENT_SECRET: `${CLIENT_SECRET}-env` };
    const r = await cli(home, ["provider", "list"], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("google\tenvironment\tclient env-id (with secret)");
    expect(r.stdout).toMatch(/^github\tnot configured \(set GITHUB_CLIENT_ID.*, or run provider add github\)$/m);
    const json = JSON.parse((await cli(home, ["provider", "list", "--json"], { env })).stdout);
    expect(json.find((p: { provider: string }) => p.provider === "google")).toEqual({ provider: "google", configured: true, source: "environment", clientId: "env-id", hasSecret: true });
    expect(r.stdout + JSON.stringify(json)).not.toContain(CLIENT_SECRET);
  });

  it("refuses an unknown flag", async () => {
    expect((await cli(tempHome(), ["provider", "list", "--all"])).code).toBe(2);
  });
});

describe("provider rm", () => {
  it("removes a saved client (audited provider-rm); a second rm is NOT_FOUND (exit 1, audited as an error)", async () => {
    const home = tempHome();
    await cli(home, ["provider", "add", "azure", "--client-id", "az", "--tenant", "contoso"], { input: CLIENT_SECRET });
    expect(await cli(home, ["provider", "rm", "azure"])).toEqual({ code: 0, stdout: "", stderr: expect.stringMatching(/^Removed the saved .* client\.\n$/) });
    const again = await cli(home, ["provider", "rm", "azure"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: No saved client for azure/);
    expect(auditLines(home).filter((l) => l.event === "provider-rm").map((l) => l.outcome)).toEqual(["intent", "ok", "error"]);
    expect(auditText(home)).not.toContain(CLIENT_SECRET);
  });

  it("no name → exit 2; unknown provider → exit 1", async () => {
    const home = tempHome();
    expect((await cli(home, ["provider", "rm"])).code).toBe(2);
    expect((await cli(home, ["provider", "rm", "gitlab"])).code).toBe(1);
  });
});
