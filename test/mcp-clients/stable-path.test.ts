// The path written into client configs survives `brew upgrade` and `scoop update`.
import { describe, expect, it } from "bun:test";
import { resolveCommandPath, stableCommandPath } from "../../src/mcp-clients/stable-path.ts";
import { isBrokerError } from "../../src/errors.ts";

describe("stableCommandPath", () => {
  it.each([
    ["Homebrew on Apple silicon", "/opt/homebrew/Cellar/mcp-credentials-broker/1.2.3/bin/mcp-credentials-broker", "/opt/homebrew/opt/mcp-credentials-broker/bin/mcp-credentials-broker", "homebrew"],
    ["Homebrew on Intel", "/usr/local/Cellar/mcp-credentials-broker/1.2.3_1/bin/mcp-credentials-broker", "/usr/local/opt/mcp-credentials-broker/bin/mcp-credentials-broker", "homebrew"],
    ["Homebrew on Linux", "/home/linuxbrew/.linuxbrew/Cellar/mcp-credentials-broker/0.9.0/bin/mcp-credentials-broker", "/home/linuxbrew/.linuxbrew/opt/mcp-credentials-broker/bin/mcp-credentials-broker", "homebrew"],
    ["Scoop, versioned folder", "C:\\Users\\me\\scoop\\apps\\mcp-credentials-broker\\1.2.3\\mcp-credentials-broker.exe", "C:\\Users\\me\\scoop\\apps\\mcp-credentials-broker\\current\\mcp-credentials-broker.exe", "scoop"],
    ["Scoop global install", "C:\\ProgramData\\scoop\\apps\\mcp-credentials-broker\\2.0.0-rc.1\\mcp-credentials-broker.exe", "C:\\ProgramData\\scoop\\apps\\mcp-credentials-broker\\current\\mcp-credentials-broker.exe", "scoop"],
    ["Scoop, already current", "C:\\Users\\me\\scoop\\apps\\mcp-credentials-broker\\current\\mcp-credentials-broker.exe", "C:\\Users\\me\\scoop\\apps\\mcp-credentials-broker\\current\\mcp-credentials-broker.exe", "scoop"],
    ["a direct download", "/usr/local/bin/mcp-credentials-broker", "/usr/local/bin/mcp-credentials-broker", "as-is"],
    ["another formula's Cellar", "/opt/homebrew/Cellar/other-tool/1.0/bin/mcp-credentials-broker", "/opt/homebrew/Cellar/other-tool/1.0/bin/mcp-credentials-broker", "as-is"],
    ["a Windows download", "D:\\tools\\mcp-credentials-broker.exe", "D:\\tools\\mcp-credentials-broker.exe", "as-is"],
  ])("%s", (_, execPath, path, origin) => {
    expect(stableCommandPath(execPath)).toEqual({ path, origin: origin as "as-is" });
  });
});

describe("resolveCommandPath", () => {
  const cellar = "/opt/homebrew/Cellar/mcp-credentials-broker/1.2.3/bin/mcp-credentials-broker";
  const base = { flag: undefined, execPath: cellar, isCompiled: true, platform: "darwin", exists: () => true };
  const fails = (input: Parameters<typeof resolveCommandPath>[0], message: string) => {
    let error: unknown;
    try {
      resolveCommandPath(input);
    } catch (e) {
      error = e;
    }
    expect(isBrokerError(error, "INVALID_INPUT")).toBe(true);
    expect((error as Error).message).toContain(message);
  };

  it("uses the stable path when it exists, else the real one", () => {
    expect(resolveCommandPath(base).path).toBe("/opt/homebrew/opt/mcp-credentials-broker/bin/mcp-credentials-broker");
    expect(resolveCommandPath({ ...base, exists: (p) => p === cellar })).toEqual({ path: cellar, origin: "as-is" });
  });

  it("takes an absolute, existing --command-path as given", () => {
    expect(resolveCommandPath({ ...base, flag: "/usr/local/bin/mcp-credentials-broker" })).toEqual({ path: "/usr/local/bin/mcp-credentials-broker", origin: "as-is" });
    expect(resolveCommandPath({ ...base, platform: "win32", flag: "C:\\bin\\mcp-credentials-broker.exe" }).path).toBe("C:\\bin\\mcp-credentials-broker.exe");
  });

  it("refuses a relative or missing --command-path", () => {
    fails({ ...base, flag: "bin/mcp-credentials-broker" }, "must be an absolute path");
    fails({ ...base, platform: "win32", flag: "/no/drive/letter.exe" }, "must be an absolute path");
    fails({ ...base, flag: "/nope/mcp-credentials-broker", exists: () => false }, "does not exist");
  });

  it("refuses to write Bun's own path when running from source", () => {
    fails({ ...base, execPath: "/usr/local/bin/bun", isCompiled: false }, "pass --command-path");
  });
});
