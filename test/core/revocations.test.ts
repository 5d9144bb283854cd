// Revocation lists: revoked jtis persist across instances (processes) until the token expires.
import { afterEach, describe, expect, it } from "bun:test";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../src/core/clock.ts";
import { MemoryRevocationList, type RevocationList } from "../../src/core/revocations.ts";
import { FileRevocationList } from "../../src/files/revocation-list.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function revokedPath(): string {
  const d = mkdtempSync(join(tmpdir(), "mcb-revocations-"));
  dirs.push(d);
  return join(d, "data", "revoked.jsonl");
}

const HOUR = 3_600_000;

const kinds: [label: string, make: (clock: ManualClock) => RevocationList][] = [
  ["memory", (clock) => new MemoryRevocationList(() => clock.now())],
  ["file", (clock) => new FileRevocationList(revokedPath(), () => clock.now())],
];

for (const [label, make] of kinds) {
  describe(`${label} revocation list`, () => {
    it("reports a revoked jti until its expiry, and an unknown one never", () => {
      const clock = new ManualClock();
      const list = make(clock);
      list.add("tok_a", clock.now() + HOUR);
      expect(list.has("tok_a")).toBe(true);
      expect(list.has("tok_b")).toBe(false);
      clock.advance(HOUR - 1);
      expect(list.has("tok_a")).toBe(true);
      clock.advance(1);
      expect(list.has("tok_a")).toBe(false);
    });

    it("does not report an entry added already expired", () => {
      const clock = new ManualClock();
      const list = make(clock);
      list.add("tok_old", clock.now() - 1);
      expect(list.has("tok_old")).toBe(false);
    });
  });
}

describe("FileRevocationList", () => {
  it("persists revocations for a new instance (another process) on the same file", () => {
    const clock = new ManualClock();
    const path = revokedPath();
    new FileRevocationList(path, () => clock.now()).add("tok_a", clock.now() + HOUR);
    const again = new FileRevocationList(path, () => clock.now());
    expect(again.has("tok_a")).toBe(true);
    expect(again.has("tok_b")).toBe(false);
  });

  it("sees a revocation written by another instance after it has cached the file", () => {
    const clock = new ManualClock();
    const path = revokedPath();
    const writer = new FileRevocationList(path, () => clock.now());
    const reader = new FileRevocationList(path, () => clock.now());
    writer.add("tok_a", clock.now() + HOUR);
    expect(reader.has("tok_a")).toBe(true);
    expect(reader.has("tok_b")).toBe(false); // cached now
    writer.add("tok_b", clock.now() + HOUR);
    expect(reader.has("tok_b")).toBe(true);
  });

  it("keeps the later expiry when a jti is revoked twice, in either order", () => {
    const clock = new ManualClock();
    const list = new FileRevocationList(revokedPath(), () => clock.now());
    list.add("tok_a", clock.now() + 2 * HOUR);
    list.add("tok_a", clock.now() + HOUR);
    list.add("tok_b", clock.now() + HOUR);
    list.add("tok_b", clock.now() + 2 * HOUR);
    clock.advance(HOUR + 1);
    expect(list.has("tok_a")).toBe(true);
    expect(list.has("tok_b")).toBe(true);
  });

  it("creates its directory 0700 and its file 0600, holding ids and expiries only", () => {
    const clock = new ManualClock();
    const path = revokedPath();
    new FileRevocationList(path, () => clock.now()).add("tok_a", 123);
    expect(statSync(join(path, "..")).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))).toEqual([{ jti: "tok_a", exp: 123 }]);
  });

  it("reports nothing revoked when the file does not exist yet", () => {
    const clock = new ManualClock();
    expect(new FileRevocationList(revokedPath(), () => clock.now()).has("tok_a")).toBe(false);
  });

  it("tolerates a torn last line from a crashed writer", () => {
    const clock = new ManualClock();
    const path = revokedPath();
    const list = new FileRevocationList(path, () => clock.now());
    list.add("tok_a", clock.now() + HOUR);
    list.add("tok_b", clock.now() + HOUR);
    appendFileSync(path, `{"jti":"tok_c","exp":${clock.now() + HOUR}`.slice(0, 20));
    const fresh = new FileRevocationList(path, () => clock.now());
    expect(fresh.has("tok_a")).toBe(true);
    expect(fresh.has("tok_b")).toBe(true);
    expect(fresh.has("tok_c")).toBe(false);
  });

  it("still records revocations appended after a torn last line", () => {
    const clock = new ManualClock();
    const path = revokedPath();
    const list = new FileRevocationList(path, () => clock.now());
    list.add("tok_a", clock.now() + HOUR);
    appendFileSync(path, '{"jti":"tok_torn","ex');
    list.add("tok_d", clock.now() + HOUR);
    const fresh = new FileRevocationList(path, () => clock.now());
    expect(fresh.has("tok_a")).toBe(true);
    expect(fresh.has("tok_d")).toBe(true);
  });

  it("skips malformed and ill-typed lines in the middle", () => {
    const clock = new ManualClock();
    const path = revokedPath();
    new FileRevocationList(path, () => clock.now()).add("tok_first", clock.now() + HOUR);
    appendFileSync(path, `garbage\n{"jti":42,"exp":1}\n{"jti":"tok_noexp"}\nnull\n[]\n{"jti":"tok_strexp","exp":"${clock.now() + HOUR}"}\n`);
    new FileRevocationList(path, () => clock.now()).add("tok_last", clock.now() + HOUR);
    const fresh = new FileRevocationList(path, () => clock.now());
    expect(fresh.has("tok_first")).toBe(true);
    expect(fresh.has("tok_last")).toBe(true);
    expect(fresh.has("tok_noexp")).toBe(false);
    expect(fresh.has("tok_strexp")).toBe(false);
  });

  it("reads an empty file as nothing revoked", () => {
    const clock = new ManualClock();
    const path = revokedPath();
    new FileRevocationList(path, () => clock.now()).add("tok_x", 1);
    writeFileSync(path, "");
    expect(new FileRevocationList(path, () => clock.now()).has("tok_x")).toBe(false);
  });
});
