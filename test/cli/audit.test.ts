// `audit` in-process: filters (--since, --name), human rows and --json, --verify (exit 0 on an
// intact keyed chain with what it proves, exit 1 naming the first altered line).
import { describe, expect, it } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, refusals, tempHome } from "./harness.ts";

const VALUE = "audit-value-CANARY-abcdef012345";

async function withHistory(): Promise<string> {
  const home = tempHome();
  await cli(home, ["secret", "set", "a"], { input: VALUE });
  await cli(home, ["secret", "set", "b"], { input: VALUE });
  await cli(home, ["secret", "rm", "b"]);
  return home;
}

describe("audit: flags", () => {
  refusals([
    [["audit", "--since", "yesterday"], 2, /--since 'yesterday' is neither a duration \(90s, 30m, 1h, 7d, 2w\) nor an ISO time/],
    [["audit", "--tail"], 2, /Unknown flag '--tail' for 'audit'/],
    [["audit", "--store", "cloud", "--verify"], 2, /Unknown store 'cloud'/],
  ]);
});

describe("audit: output", () => {
  it("an empty log says where it looked", async () => {
    const home = tempHome();
    expect(await cli(home, ["audit"])).toEqual({ code: 0, stdout: `No audit lines in ${join(home, "audit.jsonl")}.\n`, stderr: "" });
    expect(await cli(home, ["audit", "--name", "x"])).toEqual({ code: 0, stdout: "No audit lines match.\n", stderr: "" });
  });

  it("human rows (tab-separated: time, event, outcome, name, client), --name and --since filters, --json; never a value", async () => {
    const home = await withHistory();
    const rows = (await cli(home, ["audit"])).stdout.trimEnd().split("\n");
    expect(rows.map((r) => r.split("\t").slice(1, 5))).toEqual([
      ["store", "intent", "a", "cli"],
      ["store", "ok", "a", "cli"],
      ["store", "intent", "b", "cli"],
      ["store", "ok", "b", "cli"],
      ["delete", "intent", "b", "cli"],
      ["delete", "ok", "b", "cli"],
    ]);
    const b = JSON.parse((await cli(home, ["audit", "--name", "b", "--json"])).stdout) as { event: string }[];
    expect(b.map((l) => l.event)).toEqual(["store", "store", "delete", "delete"]);
    expect((await cli(home, ["audit", "--since", "1h"])).stdout.trimEnd().split("\n")).toHaveLength(6);
    expect((await cli(home, ["audit", "--since", "2999-01-01"])).stdout).toBe("No audit lines match.\n");
    expect(readFileSync(join(home, "audit.jsonl"), "utf8")).not.toContain(VALUE);
  });

  it("--verify: intact (exit 0, what it proves), then altered (exit 1, the line named); --json", async () => {
    const home = await withHistory();
    const ok = await cli(home, ["audit", "--verify"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^audit log intact: 6 lines in .*audit\.jsonl; head seq \d+ sha256 \S+\n/);
    expect(ok.stdout).toContain("proven: 6 line(s) carry a MAC under this store's audit key");
    expect(JSON.parse((await cli(home, ["audit", "--verify", "--json"])).stdout)).toEqual(expect.objectContaining({ ok: true, lines: 6, pending: 0 }));

    const path = join(home, "audit.jsonl");
    writeFileSync(path, readFileSync(path, "utf8").replace('"name":"a"', '"name":"z"'));
    const bad = await cli(home, ["audit", "--verify"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^audit log altered: line 1 of .*audit\.jsonl: /);
    const json = await cli(home, ["audit", "--verify", "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual(expect.objectContaining({ ok: false }));
  });
});
