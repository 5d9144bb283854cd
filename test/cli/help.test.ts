// The command tree in-process: every command's --help (usage and its EXAMPLES, no colour when
// stdout is not a terminal), unknown commands and flags (exit 2), `serve` and `rules`.
import { describe, expect, it } from "bun:test";
import { AGENT_RULES } from "../../src/cli/rules.ts";
import { cli, tempHome } from "./harness.ts";

// biome-ignore lint: matching ANSI escapes is the point
const ANSI = /\u001b\[/;

const COMMANDS = [
  [],
  ["serve"],
  ["status"],
  ["secret"],
  ["secret", "set"],
  ["secret", "get"],
  ["secret", "list"],
  ["secret", "rm"],
  ["secret", "policy"],
  ["secret", "approvals"],
  ["secret", "migrate"],
  ["login"],
  ["logout"],
  ["provider"],
  ["provider", "add"],
  ["provider", "list"],
  ["provider", "rm"],
  ["token"],
  ["token", "mint"],
  ["token", "verify"],
  ["token", "revoke"],
  ["token", "jwks"],
  ["run"],
  ["audit"],
  ["rules"],
  ["install"],
  ["uninstall"],
  ["doctor"],
  ["connect"],
  ["proxy"],
];

describe("--help", () => {
  for (const path of COMMANDS) {
    it(`${["mcp-credentials-broker", ...path].join(" ")} --help: usage and examples of that command, exit 0`, async () => {
      const r = await cli(tempHome(), [...path, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      // citty names a command after its parent: "mcp-credentials-broker status", "secret set".
      expect(r.stdout).toContain(`USAGE ${["mcp-credentials-broker", ...path].slice(-2).join(" ")}`);
      expect(r.stdout).toContain("EXAMPLES");
      expect(r.stdout).not.toMatch(ANSI);
    });
  }

  it("-h works too, and --help after -- belongs to the wrapped command", async () => {
    expect((await cli(tempHome(), ["status", "-h"])).stdout).toContain("USAGE mcp-credentials-broker status");
    const r = await cli(tempHome(), ["run", "--", "true", "--help"]);
    expect(r.stdout).not.toContain("USAGE");
  });

  it("proxy's sub-commands have their own usage", async () => {
    for (const sub of ["start", "stop", "status", "logs"]) {
      const r = await cli(tempHome(), ["proxy", sub, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`USAGE proxy ${sub}`);
    }
  });
});

describe("usage errors", () => {
  it("an unknown command: exit 2, usage and a plain message on stderr, nothing on stdout", async () => {
    const r = await cli(tempHome(), ["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("USAGE mcp-credentials-broker");
    expect(r.stderr).toEndWith("error: Unknown command frobnicate\n");
    expect(r.stderr).not.toMatch(ANSI);
  });

  it("a group without its sub-command: exit 2", async () => {
    for (const g of [["secret"], ["provider"], ["token"]]) expect((await cli(tempHome(), g)).code).toBe(2);
  });

  it("an unknown flag is refused before anything runs, with the --help to read; a value that looks like a flag is a value", async () => {
    const r = await cli(tempHome(), ["secret", "list", "--jsno"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toEndWith("error: Unknown flag '--jsno' for 'secret list'. See: mcp-credentials-broker secret list --help\n");
    const home = tempHome();
    expect((await cli(home, ["secret", "set", "dash", "--tag", "--x=y"], { input: "dash-value-1234567" })).code).toBe(0);
  });

  it("a flag that takes one value, given twice, is refused (citty would keep the last); repeatable ones may repeat", async () => {
    const r = await cli(tempHome(), ["secret", "set", "a", "--policy", "deny", "--policy=allow"], { input: "twice-value-12345" });
    expect(r.code).toBe(2);
    expect(r.stderr).toEndWith("error: --policy was given more than once; give it once.\n");
    expect((await cli(tempHome(), ["token", "mint", "github", "--ttl", "60", "--ttl", "600"])).stderr).toContain("--ttl was given more than once");
    expect((await cli(tempHome(), ["secret", "set", "a", "--tag", "a=1", "--tag", "b=2", "--host", "x.example", "--host", "y.example"], { input: "twice-value-12345" })).code).toBe(0);
  });
});

describe("serve", () => {
  it("refuses a bad --store (exit 2) and an unknown flag before serving", async () => {
    const r = await cli(tempHome(), ["serve", "--store", "cloud"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown store 'cloud'");
    expect((await cli(tempHome(), ["serve", "--stdio"])).code).toBe(2);
  });
});

describe("rules", () => {
  it("prints the agent rules as they are; takes no flags", async () => {
    expect(await cli(tempHome(), ["rules"])).toEqual({ code: 0, stdout: AGENT_RULES, stderr: "" });
    expect((await cli(tempHome(), ["rules", "--json"])).code).toBe(2);
  });
});
