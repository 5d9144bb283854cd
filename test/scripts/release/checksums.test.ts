// SHA256SUMS round trip, in the exact format sha256sum(1) writes and checks.
import { describe, expect, it } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatSums, parseSums, sha256Hex } from "../../../scripts/release/checksums.ts";
import { suiteCanRun } from "../../support/requirements.ts";

describe("SHA256SUMS", () => {
  it("formats sorted sha256sum lines that sha256sum -c accepts", () => {
    const dir = mkdtempSync(join(tmpdir(), "mcb-sums-"));
    const files = { "b.zip": "bee", "a.tar.gz": "ay" };
    const sums = new Map<string, string>();
    for (const [name, body] of Object.entries(files)) {
      writeFileSync(join(dir, name), body);
      sums.set(name, sha256Hex(new TextEncoder().encode(body)));
    }
    const text = formatSums(sums);
    expect(text).toBe(`${sums.get("a.tar.gz")}  a.tar.gz\n${sums.get("b.zip")}  b.zip\n`);
    writeFileSync(join(dir, "SHA256SUMS"), text);
    if (!suiteCanRun("sha256sum", ["sha256sum"], "apt-get install -y coreutils")) return;
    const r = spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: dir, encoding: "utf8" });
    expect(r.stdout).toBe("a.tar.gz: OK\nb.zip: OK\n");
  });

  it("parses its own output and the binary-mode marker", () => {
    const hex = "a".repeat(64);
    expect(parseSums(`${hex}  x.tar.gz\n${"b".repeat(64)} *y.zip\n`)).toEqual(new Map([["x.tar.gz", hex], ["y.zip", "b".repeat(64)]]));
  });

  it.each([["short hash", `${"a".repeat(63)}  x\n`], ["upper-case hash", `${"A".repeat(64)}  x\n`], ["no file name", `${"a".repeat(64)}\n`], ["junk", "hello\n"]])(
    "refuses a malformed line (%s) instead of skipping it",
    (_, text) => {
      expect(() => parseSums(text)).toThrow("SHA256SUMS line 1");
    },
  );
});
