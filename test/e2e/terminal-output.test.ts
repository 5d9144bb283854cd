// An agent cannot write to the user's terminal through the broker's human output: control
// characters in its client name, secret names, tags and purposes (ESC sequences, newlines,
// tabs, C1 controls, bidi overrides) come out escaped from `audit`, `secret list` and
// `status`, and `--json` stays JSON with the original text.
import { afterAll, describe, expect, it } from "bun:test";
import { body, connectBroker, runCli, tempHome, withoutFallbackWarning, type Connected } from "./harness.ts";

/** What an agent would write to forge a row: a new line with fake columns. */
const ROW = "\n2099-01-01T00:00:00.000Z\tresolve\tok\tgithub-token\tcli";
const ROW_ESCAPED = "\\n2099-01-01T00:00:00.000Z\\tresolve\\tok\\tgithub-token\\tcli";
/** Clear the screen, home the cursor, a forged row, 8-bit CSI, a bidi override. */
const CLIENT = `evil\u001b[2J\u001b[H${ROW}\u009b31m\u202eclient`;
const CLIENT_ESCAPED = `evil\\u001b[2J\\u001b[H${ROW_ESCAPED}\\u009b31m\\u202eclient`;
/** Secret names refuse C0 controls, but a refused name is still audited; C1 and bidi pass the check. */
const REFUSED_NAME = `build\u001b]0;pwned\u0007${ROW}`;
const NAME = "build\u009b2J\u202eeman";
const NAME_ESCAPED = "build\\u009b2J\\u202eeman";
const PURPOSE = `deploy\u001b[1A\u001b[2K\r${ROW}\u2066purpose`;
const TAG = { "k\u001b[31m": `v${ROW}\u0085` };

/** Raw control characters a terminal acts on, other than the newlines and tabs the output is made of. */
const ACTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe("human output escapes an agent's control characters", () => {
  const home = tempHome("mcb-terminal-");
  let c: Connected;

  afterAll(async () => {
    await c?.close();
  });

  it("an agent stores secrets and asks for one with forged text in every field it chooses", async () => {
    c = await connectBroker({ home, clientName: CLIENT });
    expect(body(await c.client.callTool({ name: "store_secret", arguments: { name: REFUSED_NAME, value: `CANARY-${crypto.randomUUID()}` } })).success).toBe(false);
    expect(body(await c.client.callTool({ name: "store_secret", arguments: { name: NAME, value: `CANARY-${crypto.randomUUID()}`, tags: TAG } })).success).toBe(true);
    expect(body(await c.client.callTool({ name: "get_secret", arguments: { name: NAME, purpose: PURPOSE } })).success).toBe(true);
    await c.close();
  });

  it("audit prints one row per audit line, each field escaped; --json keeps the text", async () => {
    const json = await runCli(["audit", "--json"], { home });
    expect(json.stdout).not.toMatch(ACTIVE);
    const lines = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(lines.map((l) => [l.event, l.name, l.client, l.outcome])).toEqual([
      ["store", REFUSED_NAME, CLIENT, "error"],
      ["store", NAME, CLIENT, "intent"],
      ["store", NAME, CLIENT, "ok"],
      ["get", NAME, CLIENT, "ok"],
    ]);
    expect(lines[3]!.purpose).toBe(PURPOSE);

    const r = await runCli(["audit"], { home });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(ACTIVE);
    const rows = r.stdout.trimEnd().split("\n").map((row) => row.split("\t"));
    expect(rows).toHaveLength(4); // the forged rows did not become rows
    // time, event, outcome, name, client, purpose, details: the forged tabs made no columns.
    expect(rows.map((f) => [f[1], f[2], f[3], f[4]])).toEqual([
      ["store", "error INVALID_INPUT", `build\\u001b]0;pwned\\u0007${ROW_ESCAPED}`, CLIENT_ESCAPED],
      ["store", "intent", NAME_ESCAPED, CLIENT_ESCAPED],
      ["store", "ok", NAME_ESCAPED, CLIENT_ESCAPED],
      ["get", "ok", NAME_ESCAPED, CLIENT_ESCAPED],
    ]);
    // The purpose is quoted as JSON (which escapes C0 itself); the bidi isolate is escaped on top.
    expect(rows[3]![5]).toBe(`"deploy\\u001b[1A\\u001b[2K\\r${ROW_ESCAPED}\\u2066purpose"`);
  });

  it("secret list and status escape names and tags", async () => {
    const list = await runCli(["secret", "list"], { home });
    expect(list.code).toBe(0);
    expect(list.stdout).not.toMatch(ACTIVE);
    expect(list.stdout.trimEnd().split("\n")).toHaveLength(1);
    const fields = list.stdout.trimEnd().split("\t");
    expect(fields[0]).toBe(NAME_ESCAPED);
    expect(fields.at(-1)).toBe(`k\\u001b[31m=v${ROW_ESCAPED}\\u0085`);
    const json = JSON.parse((await runCli(["secret", "list", "--json"], { home })).stdout) as Record<string, unknown>[];
    expect(json.map((s) => [s.name, s.tags])).toEqual([[NAME, TAG]]);

    const status = await runCli(["status"], { home });
    expect(status.code).toBe(0);
    expect(status.stdout).not.toMatch(ACTIVE);
    expect(status.stdout).toContain(`secrets:       1 (${NAME_ESCAPED})`);
  });

  it("error messages that quote a name escape its control characters too", async () => {
    const r = await runCli(["secret", "get", "missing\u009b2J\u202ename"], { home });
    expect(r.code).toBe(1);
    expect(withoutFallbackWarning(r.stderr)).not.toMatch(ACTIVE);
    expect(r.stderr).toContain("missing\\u009b2J\\u202ename");
  });
});
