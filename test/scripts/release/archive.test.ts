// The hand-written tar.gz and zip writers: readable by tar(1) and unzip(1), modes and
// names kept, and byte-identical for identical inputs (the archives' hashes are published).
import { describe, expect, it } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ArchiveEntry, sharedDeflater, tarGz, tarGzAsync, zip, zipAsync } from "../../../scripts/release/archive.ts";
import { suiteCanRun } from "../../support/requirements.ts";

const MTIME = 1_700_000_000; // 2023-11-14T22:13:20Z
const entries: ArchiveEntry[] = [
  { name: "tool", data: new Uint8Array(Buffer.from("#!/bin/sh\necho hi\n")), mode: 0o755 },
  { name: "README.md", data: new Uint8Array(Buffer.from("é ünïcode\n".repeat(300))), mode: 0o644 },
  { name: "empty", data: new Uint8Array(0), mode: 0o644 },
  { name: "block", data: new Uint8Array(512).fill(7), mode: 0o600 }, // exactly one tar block: no padding
];

function write(bytes: Uint8Array, name: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "mcb-archive-"));
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return { dir, file };
}

describe("tarGz", () => {
  it("is byte-identical for identical inputs, and differs when the mtime does", () => {
    expect(Buffer.compare(tarGz(entries, MTIME), tarGz(entries, MTIME))).toBe(0);
    expect(Buffer.compare(tarGz(entries, MTIME), tarGz(entries, MTIME + 1))).not.toBe(0);
  });

  it("has a gzip header without a time or a name", () => {
    const gz = tarGz(entries, MTIME);
    expect([...gz.subarray(0, 4)]).toEqual([0x1f, 0x8b, 8, 0]); // magic, deflate, FLG 0: no FNAME
    expect(Buffer.from(gz.subarray(4, 8)).readUInt32LE(0)).toBe(0); // MTIME 0
  });

  it("lists and extracts with tar(1): names, modes, owner 0:0, mtime and bytes kept", () => {
    if (!suiteCanRun("archive readers", ["tar"], "apt-get install -y tar")) return;
    const { dir, file } = write(tarGz(entries, MTIME), "a.tar.gz");
    const list = spawnSync("tar", ["--numeric-owner", "--full-time", "-tvzf", file], { encoding: "utf8", env: { ...process.env, TZ: "UTC" } });
    expect(list.status).toBe(0);
    const lines = list.stdout.trim().split("\n");
    expect(lines.map((l) => l.split(/\s+/).at(-1))).toEqual(["tool", "README.md", "empty", "block"]);
    expect(lines[0]).toMatch(/^-rwxr-xr-x 0\/0 +18 2023-11-14 22:13:20 tool$/);
    expect(lines[3]).toMatch(/^-rw------- 0\/0 +512 /);
    expect(spawnSync("tar", ["-xzf", file, "-C", dir]).status).toBe(0);
    for (const e of entries) expect(Buffer.compare(readFileSync(join(dir, e.name)), e.data)).toBe(0);
    expect(statSync(join(dir, "tool")).mode & 0o777).toBe(0o755);
  });
});

describe("zip", () => {
  it("is byte-identical for identical inputs", () => {
    expect(Buffer.compare(zip(entries, MTIME), zip(entries, MTIME))).toBe(0);
  });

  it("passes unzip -t and keeps names, unix modes and bytes", () => {
    if (!suiteCanRun("archive readers", ["unzip"], "apt-get install -y unzip")) return;
    const { dir, file } = write(zip(entries, MTIME), "a.zip");
    expect(spawnSync("unzip", ["-tq", file], { encoding: "utf8" }).stdout).toContain("No errors detected");
    const info = spawnSync("unzip", ["-Z", file], { encoding: "utf8" }).stdout;
    expect(info).toMatch(/^-rwxr-xr-x .* unx .* tool$/m);
    expect(info).toMatch(/^-rw------- .* block$/m);
    expect(info).toContain("23-Nov-14 22:13"); // DOS time written from UTC
    expect(spawnSync("unzip", ["-q", file, "-d", join(dir, "x")]).status).toBe(0);
    for (const e of entries) expect(Buffer.compare(readFileSync(join(dir, "x", e.name)), e.data)).toBe(0);
    expect(statSync(join(dir, "x", "tool")).mode & 0o777).toBe(0o755);
  });
});

describe("async variants (what scripts/release.ts uses)", () => {
  it("write the same bytes as tarGz and zip", async () => {
    expect(Buffer.compare(await tarGzAsync(entries, MTIME), tarGz(entries, MTIME))).toBe(0);
    expect(Buffer.compare(await zipAsync(entries, MTIME), zip(entries, MTIME))).toBe(0);
  });

  it("deflate an array shared by two zips once, and each zip stays what zip() writes", async () => {
    const seen: Uint8Array[] = [];
    const shared = sharedDeflater();
    const counting = (data: Uint8Array) => {
      seen.push(data);
      return shared(data);
    };
    const other: ArchiveEntry[] = [{ name: "manifest.json", data: new Uint8Array(Buffer.from("{}\n")), mode: 0o644 }, entries[1]!];
    const [a, b] = await Promise.all([zipAsync(entries, MTIME, counting), zipAsync(other, MTIME, counting)]);
    expect(Buffer.compare(a, zip(entries, MTIME))).toBe(0);
    expect(Buffer.compare(b, zip(other, MTIME))).toBe(0);
    expect(seen.filter((d) => d === entries[1]!.data)).toHaveLength(2); // asked twice…
    expect(await shared(entries[1]!.data)).toBe(await shared(entries[1]!.data)); // …one result
  });
});
