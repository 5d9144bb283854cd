// `run` in-process: flags (--env, --env-file, --no-masking, the command after --), a missing
// secret stopping before the start, the child's output masked into the command's stdout and
// stderr, its exit code returned, and the inject line audited without the value.
import { describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { auditLines, auditText, cli, refusals, tempHome } from "./harness.ts";

const VALUE = "run-value-CANARY-0123456789abcdef";
const sh = process.platform === "win32" ? null : "/bin/sh";

async function homeWith(name: string): Promise<string> {
  const home = tempHome();
  expect((await cli(home, ["secret", "set", name], { input: VALUE })).code).toBe(0);
  return home;
}

describe("run: flags", () => {
  // The missing secret's refusal is audited (an inject that failed); the others are refused before.
  refusals([
    [["run"], 2, /Give the command after --/],
    [["run", "--env", "T=secret:tok"], 2, /Give the command after --/],
    [["run", "--env", "T=plain", "--", "true"], 2, /--env T=… must be T=secret:<name>. A plain value does not belong on the command line/],
    [["run", "--env", "1BAD=secret:tok", "--", "true"], 2, /--env needs VAR=secret:<name>/],
    [["run", "--env-file", "/nonexistent/.env", "--", "true"], 2, /Cannot read --env-file \/nonexistent\/.env \(ENOENT\)/],
    [["run", "--mask", "--", "true"], 2, /Unknown flag '--mask' for 'run'/],
    [["run", "--env", "T=secret:nope", "--", "true"], 1, /Not starting the command: T: no secret named 'nope'/],
  ], { audited: true });

  it("the plain value of a bad --env is not echoed", async () => {
    const r = await cli(tempHome(), ["run", "--env", `T=${VALUE}`, "--", "true"]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain(VALUE);
  });
});

describe.if(sh !== null)("run: the command", () => {
  it("injects the secret, masks it in the child's stdout and stderr, returns its exit code, and audits the inject", async () => {
    const home = await homeWith("tok");
    const r = await cli(home, ["run", "--env", "TOKEN=secret:tok", "--", sh!, "-c", 'echo "out $TOKEN"; echo "err $TOKEN" >&2; exit 7']);
    expect(r.code).toBe(7);
    expect(r.stdout).toBe("out <redacted:TOKEN>\n");
    expect(r.stderr).toContain("err <redacted:TOKEN>\n");
    expect(r.stdout + r.stderr).not.toContain(VALUE);
    expect(auditLines(home).filter((l) => l.event === "inject").map((l) => [l.outcome, l.name, l.env, l.purpose])).toEqual([["ok", "tok", "TOKEN", "sh"]]);
    expect(auditText(home)).not.toContain(VALUE);
  });

  it("--env-file and --env together (--env wins); VAR alone hands a variable on", async () => {
    const home = await homeWith("tok");
    const file = join(home, "env.secrets");
    writeFileSync(file, "FROM_FILE=secret:tok\nPLAIN=visible\n");
    const r = await cli(home, ["run", "--env-file", file, "--env", "PATH", "--", sh!, "-c", 'echo "$PLAIN $FROM_FILE"; test -n "$PATH"']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("visible <redacted:FROM_FILE>\n");
  });
});
