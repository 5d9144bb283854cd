// doctor's checks: store in use and why, keychain reachable / locked / unavailable, data dir
// and file permissions, secrets left behind in the file store.
import { describe, expect, it } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkDataDir, diagnose } from "../src/diagnostics.ts";
import { FileStore } from "../src/store/file.ts";
import { record } from "./fixtures/store-contract.ts";
import { MemoryKeychainItems } from "./support/memory-keychain.ts";
import { tempDirs } from "./support/temp-dirs.ts";

const tempDir = tempDirs("mcb-doctor-");
function keychain(probe: MemoryKeychainItems["probeResult"]): MemoryKeychainItems {
  const k = new MemoryKeychainItems();
  k.probeResult = probe;
  return k;
}
const base = { env: {}, platform: "linux" };

describe("diagnose", () => {
  it("reports the keychain in use, why, and that it answers", async () => {
    const d = await diagnose({ ...base, dataDir: tempDir(), keychain: keychain({ state: "ready", detail: "default keyring unlocked" }) });
    expect(d.store).toMatchObject({ choice: "auto", backend: "keychain", reason: "auto: the OS keychain answers (default keyring unlocked)" });
    expect(d.findings.filter((f) => f.level !== "ok")).toEqual([]);
    expect(d.findings.find((f) => f.check === "keychain")?.message).toBe("OS keychain answers: default keyring unlocked");
  });

  it("warns about a locked keychain with the way to unlock it", async () => {
    const d = await diagnose({ ...base, dataDir: tempDir(), keychain: keychain({ state: "locked", detail: "default keyring locked", fix: "unlock it" }) });
    expect(d.keychain.state).toBe("locked");
    expect(d.findings.find((f) => f.check === "keychain")).toEqual({ level: "warn", check: "keychain", message: "OS keychain is locked: default keyring locked", fix: "unlock it" });
  });

  it("warns about the file fallback under auto, and fails when the keychain was asked for", async () => {
    const unavailable = { state: "unavailable", why: "no D-Bus session", fix: "start one" } as const;
    const auto = await diagnose({ ...base, dataDir: tempDir(), keychain: keychain(unavailable) });
    expect(auto.store.backend).toBe("file");
    expect(auto.findings.filter((f) => f.level === "warn").map((f) => f.check)).toEqual(["store", "keychain"]);
    expect(auto.findings.some((f) => f.level === "fail")).toBe(false);
    const asked = await diagnose({ ...base, storeFlag: "keychain", dataDir: tempDir(), keychain: keychain(unavailable) });
    expect(asked.findings.filter((f) => f.level === "fail").map((f) => f.check)).toEqual(["store", "keychain"]);
    expect(asked.findings[0]!.message).toContain("no D-Bus session");
  });

  it("points at `secret migrate` when secrets are left in the file store while the keychain is in use", async () => {
    const dir = tempDir();
    await new FileStore({ dir }).set("old", record("v"));
    const d = await diagnose({ ...base, dataDir: dir, keychain: keychain({ state: "ready", detail: "ok" }) });
    expect(d.findings.find((f) => f.check === "file store")).toMatchObject({ level: "warn", fix: "mcp-credentials-broker secret migrate --from file --to keychain" });
  });

  it("does not create the data dir it reports on", async () => {
    const dir = join(tempDir(), "not-yet");
    const d = await diagnose({ ...base, dataDir: dir, keychain: keychain({ state: "ready", detail: "ok" }) });
    expect(d.findings.find((f) => f.check === "data dir")?.message).toContain("does not exist yet");
  });
});

describe("checkDataDir", () => {
  it("accepts a 0700 dir of 0600 files", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "secrets.jsonl"), "{}", { mode: 0o600 });
    expect(checkDataDir(dir, "linux", process.getuid?.())).toEqual([{ level: "ok", check: "data dir", message: `${dir} (mode 0700)` }]);
  });

  it("flags a dir and files other users can read, with the chmod that fixes each", () => {
    const dir = join(tempDir(), "open");
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, "audit.jsonl"), "", { mode: 0o644 });
    chmodSync(join(dir, "audit.jsonl"), 0o644);
    const f = checkDataDir(dir, "linux");
    expect(f).toEqual([
      { level: "warn", check: "data dir", message: `${dir} is open to other users (mode 0755)`, fix: `chmod 700 ${dir}` },
      { level: "warn", check: "data files", message: `${join(dir, "audit.jsonl")} is open to other users (mode 0644)`, fix: `chmod 600 ${join(dir, "audit.jsonl")}` },
    ]);
  });

  it("fails for a data dir owned by someone else", () => {
    const dir = tempDir();
    const f = checkDataDir(dir, "linux", 424242);
    expect(f[0]).toMatchObject({ level: "fail", message: expect.stringContaining("not to you (uid 424242)") });
  });
});
