// The github preset against a GitHub-style fixture (acceptance 4): form-encoded answers,
// errors with HTTP 200, the device flow's interval and slow_down (with an injected clock, so
// nothing waits 5 s), expiring GitHub App tokens refreshed, bad_refresh_token terminal.
import { afterEach, describe, expect, it } from "bun:test";
import { ManualClock } from "../../src/core/clock.ts";
import { isBrokerError } from "../../src/errors.ts";
import { createLogger } from "../../src/log.ts";
import { silentUi, type LoginUi, type OAuthDeps } from "../../src/oauth/oauth-deps.ts";
import { DEFAULT_POLL_INTERVAL_S, runDeviceFlow, slowedInterval } from "../../src/oauth/device.ts";
import { loadServerMetadata } from "../../src/oauth/discovery.ts";
import { runCodeFlow } from "../../src/oauth/authorization-code.ts";
import { resolveProvider } from "../../src/oauth/providers.ts";
import { startGitHubFixture, type GitHubFixture } from "../fixtures/github.ts";
import { formBrowser } from "../support/form-browser.ts";
import { freePort } from "../support/ports.ts";

class RecordingClock extends ManualClock {
  readonly sleeps: number[] = [];
  override async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    await super.sleep(ms);
  }
}

let gh: GitHubFixture | undefined;
afterEach(() => gh?.stop());

const logs: string[] = [];
function deps(clock = new RecordingClock()): OAuthDeps & { clock: RecordingClock } {
  return { fetch: (i, init) => fetch(i, init), clock, log: createLogger({ debug: true, write: (l) => logs.push(l) }), env: {}, platform: "linux" };
}

function github(fx: GitHubFixture, withSecret = true) {
  return resolveProvider("github", { GITHUB_CLIENT_ID: fx.clientId, ...(withSecret ? { GITHUB_CLIENT_SECRET: fx.clientSecret } : {}), GITHUB_HOST: fx.base }, null);
}

async function webLogin(fx: GitHubFixture) {
  const p = github(fx);
  const meta = await loadServerMetadata(p, fetch);
  return runCodeFlow(p, meta, deps(), {
    ui: silentUi,
    timeoutMs: 10_000,
    port: await freePort(),
    open: async (url) => {
      void formBrowser(url, new URL(url).searchParams.get("redirect_uri")!);
      return true;
    },
  });
}

describe("github web flow", () => {
  it("logs in through GitHub's endpoints with PKCE; the redirect URI is the original's localhost form", async () => {
    gh = startGitHubFixture();
    const p = github(gh);
    const meta = await loadServerMetadata(p, fetch);
    let seen = "";
    const grant = await runCodeFlow(p, meta, deps(), {
      ui: silentUi,
      timeoutMs: 10_000,
      port: await freePort(),
      open: async (url) => {
        seen = url;
        void formBrowser(url, new URL(url).searchParams.get("redirect_uri")!);
        return true;
      },
    });
    const u = new URL(seen);
    expect(`${u.origin}${u.pathname}`).toBe(`${gh.base}/login/oauth/authorize`);
    expect(u.searchParams.get("redirect_uri")).toMatch(/^http:\/\/localhost:\d+\/oauth\/callback$/);
    expect(u.searchParams.get("code_challenge_method")).toBe("S256");
    expect(u.searchParams.has("nonce")).toBe(false);
    expect(grant.tokens.access_token).toBe(gh.issued[0]!);
    expect(grant.tokens.token_type).toBe("bearer");
  });

  it("reads form-encoded token responses (GitHub without Accept: application/json)", async () => {
    gh = startGitHubFixture({ alwaysForm: true, expiresIn: 28_800 });
    const grant = await webLogin(gh);
    expect(grant.tokens.access_token).toBe(gh.issued[0]!);
    expect(grant.tokens.expires_in).toBe(28_800);
    expect(grant.tokens.refresh_token).toStartWith("CANARY-");
  });

  for (const alwaysForm of [false, true]) {
    it(`turns an error reported with HTTP 200 (${alwaysForm ? "form-encoded" : "JSON"}) into a clear error without echoing the provider's text`, async () => {
      gh = startGitHubFixture({ alwaysForm });
      gh.failNextToken = "bad_verification_code";
      const err = await webLogin(gh).catch((e) => e);
      expect(isBrokerError(err, "OAUTH_ERROR")).toBe(true);
      expect(err.message).toContain("bad_verification_code");
      expect(err.message).not.toContain(gh.errorCanary);
      expect(logs.join("\n")).not.toContain(gh.errorCanary);
    });
  }

  it("an unknown error code from the provider is not repeated (it may hold anything)", async () => {
    gh = startGitHubFixture();
    gh.failNextToken = `CANARY-${crypto.randomUUID()}`;
    const planted = gh.failNextToken;
    const err = await webLogin(gh).catch((e) => e);
    expect(err.message).toContain("an unrecognised error");
    expect(err.message).not.toContain(planted);
  });
});

describe("github device flow (RFC 8628)", () => {
  function ui(onCode: (code: string) => void): LoginUi {
    return { ...silentUi, deviceCode: (d) => onCode(d.userCode) };
  }

  it("polls at `interval`, adds at least 5 s on slow_down (taking GitHub's new interval), stops when approved", async () => {
    gh = startGitHubFixture({ interval: 5 });
    const d = deps();
    let userCode = "";
    let polls = 0;
    const p = github(gh, false);
    const meta = await loadServerMetadata(p, fetch);
    const fx = gh;
    const wrapped: OAuthDeps = {
      ...d,
      fetch: async (i, init) => {
        if (String(i).endsWith("/login/oauth/access_token")) {
          polls++;
          if (polls === 2) fx.slowDownNext = true;
          if (polls === 3) fx.approve(userCode);
        }
        return fetch(i, init);
      },
    };
    const grant = await runDeviceFlow(p, meta, wrapped, { ui: ui((c) => (userCode = c)), timeoutMs: 600_000 });
    expect(grant.tokens.access_token).toBe(gh.issued[0]!);
    expect(grant.authMethod).toBe("none");
    // pending after 5 s, slow_down after 5 s (GitHub names interval 10), approved after 10 s.
    expect(d.clock.sleeps).toEqual([5_000, 5_000, 10_000]);
  });

  it("without an interval waits 5 s (RFC 8628 §3.2); slow_down adds 5 s when the server names no longer interval", () => {
    expect(DEFAULT_POLL_INTERVAL_S).toBe(5);
    expect(slowedInterval(5, undefined)).toBe(10);
    expect(slowedInterval(5, 7)).toBe(10);
    expect(slowedInterval(5, 30)).toBe(30);
    expect(slowedInterval(5, "99")).toBe(10);
  });

  it("gives up when the code expires, with OAUTH_TIMEOUT", async () => {
    gh = startGitHubFixture({ interval: 5 });
    const p = github(gh, false);
    const meta = await loadServerMetadata(p, fetch);
    const d = deps();
    const err = await runDeviceFlow(p, meta, d, { ui: silentUi, timeoutMs: 60_000 }).catch((e) => e);
    expect(isBrokerError(err, "OAUTH_TIMEOUT")).toBe(true);
    // 11 polls of 5 s fit in 60 s; none faster than the interval.
    expect(d.clock.sleeps.every((s) => s >= 5_000)).toBe(true);
  });

  it("stops at a terminal error (access_denied) with its hint", async () => {
    gh = startGitHubFixture({ interval: 1 });
    const p = github(gh, false);
    const meta = await loadServerMetadata(p, fetch);
    gh.failNextToken = "access_denied";
    const err = await runDeviceFlow(p, meta, deps(), { ui: silentUi, timeoutMs: 60_000 }).catch((e) => e);
    expect(isBrokerError(err, "OAUTH_ERROR")).toBe(true);
    expect(err.message).toContain("access_denied");
    expect(err.message).toContain("declined");
  });

  it("refuses a verification URI that the URL policy refuses", async () => {
    gh = startGitHubFixture();
    const p = github(gh, false);
    const meta = await loadServerMetadata(p, fetch);
    const evil: OAuthDeps = {
      ...deps(),
      fetch: async (i, init) => {
        if (String(i).endsWith("/login/device/code")) return Response.json({ device_code: "d", user_code: "U", verification_uri: "javascript:alert(1)", expires_in: 600, interval: 5 });
        return fetch(i, init);
      },
    };
    const err = await runDeviceFlow(p, meta, evil, { ui: silentUi, timeoutMs: 60_000 }).catch((e) => e);
    expect(isBrokerError(err, "UNSAFE_URL")).toBe(true);
  });
});
