// `login` and `logout` in-process, against a real OAuth server (oidc-provider on 127.0.0.1,
// test/fixtures/idp.ts): flags and their errors, the device flow end to end, the token stored
// and audited (login, logout) with no token in the log; `logout` revokes at the provider.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { startIdp, type Idp } from "../fixtures/idp.ts";
import { formBrowser } from "../support/form-browser.ts";
import { auditLines, auditText, cli, refusals, tempHome } from "./harness.ts";

let idp: Idp;
beforeAll(async () => {
  idp = await startIdp({ deviceInterval: 1 });
}, 30_000);
afterAll(async () => {
  await idp?.stop();
});

const oauthEnv = () => ({ OAUTH2_CLIENT_ID: idp.clientId, OAUTH2_CLIENT_SECRET: idp.clientSecret, OAUTH2_ISSUER: idp.issuer, BROWSER: "", DISPLAY: "", WAYLAND_DISPLAY: "", MCB_LOGIN_TIMEOUT: "30" });

describe("login: flags", () => {
  // oauthEnv() is read when each row runs, once the provider has started.
  refusals(
    [
      [["login"], 2, /Missing required positional argument: PROVIDER/],
      [["login", "gitlab"], 2, /Unknown provider 'gitlab'. Use one of: .*, or an https:\/\/ issuer URL/],
      [["login", "https://"], 2, /is not a valid issuer URL/],
      [["login", "github", "--device", "--no-browser"], 2, /Use either --device or --no-browser, not both/],
      [["login", "github", "--port", "99999"], 2, /--port must be a TCP port number from 1 to 65535 \(got "99999"\)/],
      [["login", "github", "--port", "http"], 2, /--port must be a TCP port number/],
      [["login", "github", "--timeout", "0"], 2, /--timeout must be 1 to 3600 seconds/],
      [["login", "github", "--timeout", "soon"], 2, /--timeout must be 1 to 3600 seconds/],
      [["login", "github", "--scope", "repo"], 2, /Unknown flag '--scope' for 'login'/],
    ],
    { env: { BROWSER: "", DISPLAY: "", WAYLAND_DISPLAY: "" } },
  );
});

describe("login and logout against a real provider", () => {
  it("login --device: prints the code, stores the token (--json), audits login without the token; logout revokes it at the provider and audits logout", async () => {
    const home = tempHome();
    let approve: Promise<unknown> | null = null;
    const r = await cli(home, ["login", "oauth2", "--device", "--name", "dev-token", "--json"], {
      env: oauthEnv(),
      // The user enters the code on "another device" once it is printed.
      onStderr: (text) => {
        const m = /open (http\S+) on any device and enter the code:\s+(\S+)/.exec(text);
        if (m && !approve) approve = formBrowser(m[1]!, null, { login: "alice", password: "pw", user_code: m[2]! });
      },
    });
    await approve;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Signed in\. Token stored as 'dev-token' \(expires in \d+ min; refreshed automatically\)\.\n$/);
    expect(JSON.parse(r.stdout)).toEqual(expect.objectContaining({ name: "dev-token", provider: "oauth2", hasRefreshToken: true, byOtherProcess: false }));
    const token = (await cli(home, ["secret", "get", "dev-token"], { env: oauthEnv() })).stdout;
    expect(await idp.userinfoStatus(token)).toBe(200);
    expect(auditLines(home).filter((l) => l.event === "login").map((l) => [l.outcome, l.name, l.provider, l.client])).toEqual([
      ["intent", "dev-token", "oauth2", "cli"],
      ["ok", "dev-token", "oauth2", "cli"],
    ]);

    const revocations = idp.counts.revocation;
    const out = await cli(home, ["logout", "dev-token"], { env: oauthEnv() });
    expect(out).toEqual({ code: 0, stdout: "", stderr: "'dev-token' revoked at the provider and deleted.\n" });
    // The refresh token and the access token (RFC 7009 §2.1).
    expect(idp.counts.revocation).toBeGreaterThan(revocations);
    expect(auditLines(home).filter((l) => l.event === "logout").map((l) => [l.outcome, l.name])).toEqual([
      ["intent", "dev-token"],
      ["ok", "dev-token"],
    ]);
    expect(auditText(home)).not.toContain(token);
    expect(auditText(home)).not.toContain(idp.clientSecret);
  }, 30_000);

  it("a login that fails (no such issuer) exits 1 and is audited as an error", async () => {
    const home = tempHome();
    const r = await cli(home, ["login", "http://127.0.0.1:9/", "--device", "--name", "nowhere"], { env: { ...oauthEnv(), OAUTH2_ISSUER: undefined } });
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith("error: ");
    expect(auditLines(home).filter((l) => l.event === "login").map((l) => [l.outcome, l.name])).toEqual([
      ["intent", "nowhere"],
      ["error", "nowhere"],
    ]);
  });
});

describe("logout: flags and errors", () => {
  it("no name → exit 2; unknown flag → exit 2; a secret that does not exist → exit 1", async () => {
    const home = tempHome();
    expect((await cli(home, ["logout"])).code).toBe(2);
    expect((await cli(home, ["logout", "x", "--revoke"])).stderr).toContain("Unknown flag '--revoke' for 'logout'");
    const r = await cli(home, ["logout", "nope"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*nope/);
  });

  it("a plain secret is deleted (nothing to revoke), audited as a logout", async () => {
    const home = tempHome();
    await cli(home, ["secret", "set", "plain"], { input: "plain-value-123456" });
    expect((await cli(home, ["logout", "plain"])).stderr).toBe("'plain' deleted.\n");
    expect(auditLines(home).filter((l) => l.event === "logout").map((l) => l.outcome)).toEqual(["intent", "ok"]);
  });
});
