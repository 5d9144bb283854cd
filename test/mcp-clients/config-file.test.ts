// Minimal edits of client configs: our entry changes, every other byte stays; strict parsing
// refuses what it cannot read, with the position.
import { describe, expect, it } from "bun:test";
import { entryNames, parseConfig, readEntry, removeEntry, setEntry } from "../../src/mcp-clients/config-file.ts";
import { isBrokerError } from "../../src/errors.ts";

const JSON_ = { jsonc: false };
const JSONC = { jsonc: true };
const ENTRY = { command: "/opt/mcb/mcp-credentials-broker", args: [] };
const P = "/home/u/mcp.json";

const add = (text: string, syntax = JSON_, key = "mcpServers") => setEntry(parseConfig(text, syntax, P), key, "credentials", ENTRY, P);
const del = (text: string, syntax = JSON_, key = "mcpServers") => removeEntry(parseConfig(text, syntax, P), key, "credentials", P);

describe("setEntry", () => {
  it.each([
    ["an empty file", "", '{\n  "mcpServers": {\n    "credentials": {\n      "command": "/opt/mcb/mcp-credentials-broker",\n      "args": []\n    }\n  }\n}\n'],
    ["an empty object", "{}\n", '{\n  "mcpServers": {\n    "credentials": {\n      "command": "/opt/mcb/mcp-credentials-broker",\n      "args": []\n    }\n  }\n}\n'],
    [
      "a file with other keys, 4-space indent",
      '{\n    "theme": "dark"\n}\n',
      '{\n    "theme": "dark",\n    "mcpServers": {\n        "credentials": {\n            "command": "/opt/mcb/mcp-credentials-broker",\n            "args": []\n        }\n    }\n}\n',
    ],
    [
      "other servers, tab indent",
      '{\n\t"mcpServers": {\n\t\t"github": {"command": "gh-mcp"}\n\t}\n}',
      '{\n\t"mcpServers": {\n\t\t"github": {"command": "gh-mcp"},\n\t\t"credentials": {\n\t\t\t"command": "/opt/mcb/mcp-credentials-broker",\n\t\t\t"args": []\n\t\t}\n\t}\n}',
    ],
    ["a one-line file", '{"mcpServers":{"a":{"command":"x"}}}', '{"mcpServers":{"a":{"command":"x"}, "credentials": {"command":"/opt/mcb/mcp-credentials-broker","args":[]}}}'],
    ["a one-line file with empty servers", '{"mcpServers":{}}', '{"mcpServers":{"credentials": {"command":"/opt/mcb/mcp-credentials-broker","args":[]}}}'],
    ["CRLF line ends", '{\r\n  "mcpServers": {}\r\n}\r\n', '{\r\n  "mcpServers": {\r\n    "credentials": {\r\n      "command": "/opt/mcb/mcp-credentials-broker",\r\n      "args": []\r\n    }\r\n  }\r\n}\r\n'],
  ])("adds our entry to %s", (_, before, after) => {
    expect(add(before)).toBe(after);
  });

  it("keeps comments and trailing commas of a JSONC file (VS Code's `servers`)", () => {
    const before = '// user MCP servers\n{\n  "servers": {\n    // the GitHub one\n    "github": { "type": "http", "url": "https://api.githubcopilot.com/mcp/" },\n  },\n  "inputs": [],\n}\n';
    const after = add(before, JSONC, "servers");
    expect(after).toBe(
      '// user MCP servers\n{\n  "servers": {\n    // the GitHub one\n    "github": { "type": "http", "url": "https://api.githubcopilot.com/mcp/" },\n    "credentials": {\n      "command": "/opt/mcb/mcp-credentials-broker",\n      "args": []\n    },\n  },\n  "inputs": [],\n}\n',
    );
    expect(readEntry(parseConfig(after, JSONC, P), "servers", "credentials", P)).toEqual(ENTRY);
  });

  it("replaces an existing entry's value in place, touching nothing around it", () => {
    const before = '{\n  "mcpServers": {\n    "credentials": {"command": "/old/path"},\n    "z": {"command": "z"}\n  },\n  "x": 1\n}\n';
    expect(add(before)).toBe('{\n  "mcpServers": {\n    "credentials": {\n      "command": "/opt/mcb/mcp-credentials-broker",\n      "args": []\n    },\n    "z": {"command": "z"}\n  },\n  "x": 1\n}\n');
  });

  it("escapes a Windows path for JSON", () => {
    const cfg = parseConfig("", JSON_, P);
    const text = setEntry(cfg, "mcpServers", "credentials", { command: "C:\\Users\\me\\scoop\\apps\\mcp-credentials-broker\\current\\mcp-credentials-broker.exe" }, P);
    expect(text).toContain('"C:\\\\Users\\\\me\\\\scoop\\\\apps\\\\mcp-credentials-broker\\\\current\\\\mcp-credentials-broker.exe"');
    expect(JSON.parse(text).mcpServers.credentials.command).toBe("C:\\Users\\me\\scoop\\apps\\mcp-credentials-broker\\current\\mcp-credentials-broker.exe");
  });
});

describe("removeEntry", () => {
  it.each([
    ["the first of several", '{\n  "mcpServers": {\n    "credentials": {"command": "c"},\n    "b": {"command": "b"}\n  }\n}\n', '{\n  "mcpServers": {\n    "b": {"command": "b"}\n  }\n}\n'],
    ["the last of several", '{\n  "mcpServers": {\n    "a": {"command": "a"},\n    "credentials": {"command": "c"}\n  }\n}\n', '{\n  "mcpServers": {\n    "a": {"command": "a"}\n  }\n}\n'],
    ["a middle one", '{"mcpServers": {"a": 1, "credentials": {"command": "c"}, "b": 2}}', '{"mcpServers": {"a": 1, "b": 2}}'],
    ["the only one", '{\n  "mcpServers": {\n    "credentials": {"command": "c"}\n  },\n  "k": true\n}\n', '{\n  "mcpServers": {},\n  "k": true\n}\n'],
  ])("removes %s and nothing else", (_, before, after) => {
    expect(del(before)).toBe(after);
  });

  it("keeps a comment that shares the servers object (JSONC)", () => {
    const before = '{\n  "servers": {\n    // keep me\n    "credentials": {"command": "c"},\n  }\n}';
    const after = del(before, JSONC, "servers")!;
    expect(after).toContain("// keep me");
    expect(entryNames(parseConfig(after, JSONC, P), "servers", P)).toEqual([]);
  });

  it("returns undefined when there is nothing to remove", () => {
    expect(del('{"mcpServers": {"a": {}}}')).toBeUndefined();
    expect(del("{}")).toBeUndefined();
    expect(del("")).toBeUndefined();
  });
});

describe("parseConfig refuses what it cannot read", () => {
  it.each([
    ["a trailing comma in strict JSON", '{\n  "mcpServers": {},\n}', JSON_, "not valid JSON (PropertyNameExpected at line 3, column 1)"],
    ["a comment in strict JSON", '{\n  // hi\n  "a": 1\n}', JSON_, "not valid JSON (InvalidCommentToken at line 2, column 3)"],
    ["truncated JSONC", '{\n  "servers": {', JSONC, "not valid JSONC"],
    ["a top-level array", "[]", JSON_, "does not hold a JSON object at the top"],
    ["a non-object servers key", '{"mcpServers": []}', JSON_, '"mcpServers" in /home/u/mcp.json is not an object'],
  ])("%s", (_, text, syntax, message) => {
    let error: unknown;
    try {
      readEntry(parseConfig(text, syntax, P), "mcpServers", "credentials", P);
    } catch (e) {
      error = e;
    }
    expect(isBrokerError(error, "CONFIG_INVALID")).toBe(true);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).toContain(P);
    expect((error as Error).message).toContain("Nothing was changed");
  });
});
