import { describe, expect, it } from "bun:test";
import { resolveDataDir } from "../src/paths.ts";

describe("resolveDataDir", () => {
  it.each([
    [{ MCB_HOME: "/x" }, "linux", "/x"],
    [{ XDG_DATA_HOME: "/xdg" }, "linux", "/xdg/mcp-credentials-broker"],
    [{}, "linux", "/home/u/.local/share/mcp-credentials-broker"],
    [{ XDG_DATA_HOME: "" }, "linux", "/home/u/.local/share/mcp-credentials-broker"],
    [{}, "darwin", "/home/u/Library/Application Support/mcp-credentials-broker"],
    [{ APPDATA: "C:/Users/u/AppData/Roaming" }, "win32", "C:/Users/u/AppData/Roaming/mcp-credentials-broker"],
    [{ MCB_HOME: "/x", XDG_DATA_HOME: "/xdg" }, "linux", "/x"],
  ] as const)("%j on %s → %s", (env, platform, expected) => {
    expect(resolveDataDir(env, platform, "/home/u")).toBe(expected);
  });
});
