// Opening the browser: the helper by absolute path, the re-serialised URL as its one argv
// element, never a shell, no credentials in its environment (docs/security.md §Child processes).
import { afterAll, describe, expect, it } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { browserCommand, findOnPath, openerEnv, openInBrowser } from "../../src/oauth/browser.ts";
import { isBrokerError } from "../../src/errors.ts";
import { loadConfig } from "../../src/config.ts";

const dir = mkdtempSync(join(tmpdir(), "mcb-browser-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The browser settings of an environment, as the runtime passes them (config.browser and config.path). */
function settings(env: Record<string, string>, platform: NodeJS.Platform = "linux") {
  const c = loadConfig(env, platform, "/home/u");
  return { ...c.browser, path: c.path };
}

/** A BROWSER hook that records its argv and environment as JSON. */
function recorder(name: string, exitCode = 0): { path: string; ledger: string } {
  const ledger = join(dir, `${name}.jsonl`);
  const path = join(dir, name);
  writeFileSync(path, `#!${process.execPath}\nrequire("node:fs").appendFileSync(${JSON.stringify(ledger)}, JSON.stringify({ argv: process.argv.slice(2), env: process.env }) + "\\n");\nprocess.exit(${exitCode});\n`);
  chmodSync(path, 0o755);
  return { path, ledger };
}

describe("browserCommand", () => {
  it.if(process.platform !== "win32")("uses BROWSER by absolute path (found on PATH when given a bare name)", () => {
    const { path } = recorder("my-browser");
    expect(browserCommand(settings({ BROWSER: path }, "linux"), "linux")).toEqual({ path, args: [], label: "BROWSER" });
    expect(browserCommand(settings({ BROWSER: "my-browser", PATH: `relative:${dir}` }, "linux"), "linux")?.path).toBe(path);
    expect(browserCommand(settings({ BROWSER: "no-such-browser", PATH: dir }, "linux"), "linux")).toBeNull();
  });
  it("never searches relative PATH entries", () => {
    expect(findOnPath("my-browser", ".")).toBeNull();
  });
  it("per platform: open, rundll32 url.dll, xdg-open only with a display", () => {
    expect(browserCommand(settings({}, "darwin"), "darwin")).toEqual({ path: "/usr/bin/open", args: [], label: "open" });
    expect(browserCommand(settings({ SystemRoot: "C:\\Windows" }, "win32"), "win32")).toEqual({ path: "C:\\Windows\\System32\\rundll32.exe", args: ["url.dll,FileProtocolHandler"], label: "rundll32" });
    // SSH session or container: no display, so no browser (device flow instead).
    expect(browserCommand(settings({ PATH: "/usr/bin:/bin", SSH_TTY: "/dev/pts/0" }, "linux"), "linux")).toBeNull();
    const withDisplay = browserCommand(settings({ PATH: "/usr/bin:/bin", DISPLAY: ":0" }, "linux"), "linux");
    if (existsSync("/usr/bin/xdg-open")) expect(withDisplay?.path).toBe("/usr/bin/xdg-open");
  });
});

// A script cannot stand in for a browser on Windows (see test/support/browser-hook.ts).
describe.if(process.platform !== "win32")("openInBrowser", () => {
  it("passes the re-serialised URL as exactly one argument, without a shell, and without credentials in env", async () => {
    const { path, ledger } = recorder("rec");
    const marker = join(dir, "pwned");
    // Under any shell, each of these would create the marker file.
    const url = `https://127.0.0.1:9/auth?q=$(touch\${IFS}${marker})&r=\`touch\${IFS}${marker}\`;touch\${IFS}${marker}|x`;
    const ok = await openInBrowser({ path, args: [], label: "BROWSER" }, url, { PATH: process.env.PATH, GITHUB_CLIENT_SECRET: "CANARY-s", MCB_STORE_KEY: "CANARY-k", JWT_SECRET: "CANARY-j", DISPLAY: ":0" });
    expect(ok).toBe(true);
    const calls = readFileSync(ledger, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(calls).toHaveLength(1);
    expect(calls[0].argv).toEqual([new URL(url).href]);
    expect(existsSync(marker)).toBe(false);
    expect(JSON.stringify(calls[0].env)).not.toContain("CANARY");
    expect(calls[0].env.DISPLAY).toBe(":0");
  });
  it("refuses unsafe URLs before spawning anything", async () => {
    const { path, ledger } = recorder("rec2");
    for (const bad of ["file:///etc/passwd", "javascript:alert(1)", "http://evil.example/", "https://x.example/a b"]) {
      const err = await openInBrowser({ path, args: [], label: "BROWSER" }, bad, {}).catch((e) => e);
      expect(isBrokerError(err, "UNSAFE_URL")).toBe(true);
    }
    expect(existsSync(ledger)).toBe(false);
  });
  it("reports failure when the opener fails or is missing", async () => {
    const { path } = recorder("failing", 3);
    expect(await openInBrowser({ path, args: [], label: "BROWSER" }, "https://example.com/", {})).toBe(false);
    expect(await openInBrowser({ path: join(dir, "missing"), args: [], label: "BROWSER" }, "https://example.com/", {})).toBe(false);
  });
  it("hands the opener no credential variables", () => {
    expect(openerEnv({ PATH: "/bin", OAUTH2_CLIENT_SECRET: "x", GITHUB_TOKEN: "y", AWS_SECRET_ACCESS_KEY: "z", MCB_HOME: "/h", API_KEY: "k", HOME: "/root" })).toEqual({ PATH: "/bin", HOME: "/root" });
  });
});

describe("findOnPath on Windows", () => {
  it("finds only executables (.exe, .com), never .cmd or .bat (they need a shell)", () => {
    const win = mkdtempSync(join(tmpdir(), "mcb-win-"));
    writeFileSync(join(win, "firefox.exe"), "");
    writeFileSync(join(win, "evil.cmd"), "");
    expect(findOnPath("firefox", win, "win32")).toBe(join(win, "firefox.exe"));
    expect(findOnPath("evil", win, "win32")).toBeNull();
    expect(findOnPath("evil.cmd", win, "win32")).toBeNull();
    rmSync(win, { recursive: true, force: true });
  });
});
