// doctor's checks: store in use and why, keychain reachable / locked / unavailable, data dir
// and file permissions, secrets left behind in the file store.
import { describe, expect, it } from "bun:test";
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../src/config.ts";
import { openStore, storeWarningIsNew } from "../src/store/select.ts";
import { checkDataDir, diagnose } from "../src/diagnostics.ts";
import { FileStore } from "../src/store/file.ts";
import { keepTornBytes } from "../src/files/torn-files.ts";
import { KeychainStore } from "../src/store/keychain.ts";
import { record } from "./fixtures/store-contract.ts";
import { MemoryKeychainItems } from "./support/memory-keychain.ts";
import { tempDirs } from "./support/temp-dirs.ts";

const tempDir = tempDirs("mcb-doctor-");
function keychain(probe: MemoryKeychainItems["probeResult"]): MemoryKeychainItems {
  const k = new MemoryKeychainItems();
  k.probeResult = probe;
  return k;
}
const base = { config: loadConfig({}), platform: "linux" };

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

  it("says the whole fallback warning every time, whatever other commands said once: secrets kept in the keychain earlier are out of reach", async () => {
    const dir = tempDir();
    const items = new MemoryKeychainItems();
    await new KeychainStore({ items, dir }).set("gh", record("v"));
    items.probeResult = { state: "unavailable", why: "no D-Bus session", fix: "start one" };
    for (const seen of [false, true]) {
      if (seen) expect(storeWarningIsNew(dir, (await openStore("auto", dir, {}, { keychain: items })).warning)).toBe(true);
      const d = await diagnose({ ...base, dataDir: dir, keychain: items });
      expect(d.findings.filter((f) => f.level === "warn").map((f) => f.message)).toEqual([
        expect.stringContaining("auto: OS keychain unavailable (no D-Bus session); using the file store"),
        "1 secret(s) stored in the OS keychain earlier are out of reach until it answers",
        "OS keychain unavailable: no D-Bus session",
      ]);
    }
  });

  it("points at `secret migrate` when secrets are left in the file store while the keychain is in use", async () => {
    const dir = tempDir();
    await new FileStore({ dir }).set("old", record("v"));
    const d = await diagnose({ ...base, dataDir: dir, keychain: keychain({ state: "ready", detail: "ok" }) });
    expect(d.findings.find((f) => f.check === "file store")).toMatchObject({ level: "warn", fix: "mcp-credentials-broker secret migrate --from file --to keychain" });
  });

  it("reads every record: a healthy store is ok, naming how many", async () => {
    const dir = tempDir();
    await new FileStore({ dir }).set("a", record("v"));
    const d = await diagnose({ ...base, config: loadConfig({ MCB_STORE: "file" }), dataDir: dir, keychain: null });
    expect(d.findings.find((f) => f.check === "store data")).toEqual({ level: "ok", check: "store data", message: "1 record(s) read and parsed" });
  });

  it("fails on a corrupt secrets file, with the fix (it opened fine: only reading finds it)", async () => {
    const dir = tempDir();
    await new FileStore({ dir }).set("a", record("v"));
    writeFileSync(join(dir, "secrets.jsonl"), "this is not a secrets file\n{\"set\":\n");
    const d = await diagnose({ ...base, config: loadConfig({ MCB_STORE: "file" }), dataDir: dir, keychain: null });
    expect(d.findings.find((f) => f.check === "store")?.level).toBe("ok");
    const data = d.findings.find((f) => f.check === "store data");
    // The message is the store's STORE_CORRUPT text (it names the file); the fix is doctor's.
    expect(data).toMatchObject({ level: "fail", message: expect.stringContaining(join(dir, "secrets.jsonl")), fix: expect.stringContaining(`move ${join(dir, "secrets.jsonl")} aside`) });
  });

  it("fails when MCB_STORE_KEY does not decrypt the store, saying which passphrase to set", async () => {
    const dir = tempDir();
    const s = new FileStore({ dir, passphrase: "the right passphrase" });
    await s.set("a", record("v"));
    await s.close();
    const d = await diagnose({ ...base, config: loadConfig({ MCB_STORE: "file", MCB_STORE_KEY: "a wrong passphrase" }), dataDir: dir, keychain: null });
    expect(d.findings.find((f) => f.check === "store data")).toMatchObject({ level: "fail", fix: "set MCB_STORE_KEY to the passphrase the store was written with" });
    const right = await diagnose({ ...base, config: loadConfig({ MCB_STORE: "file", MCB_STORE_KEY: "the right passphrase" }), dataDir: dir, keychain: null });
    expect(right.findings.find((f) => f.check === "store data")?.level).toBe("ok");
  });

  it("fails on a damaged keychain item, naming it and the command that replaces it", async () => {
    const dir = tempDir();
    const k = keychain({ state: "ready", detail: "ok" });
    const first = await diagnose({ ...base, dataDir: dir, keychain: k });
    expect(first.findings.find((f) => f.check === "store data")?.level).toBe("ok");
    const { openStore } = await import("../src/store/select.ts");
    const opened = await openStore("keychain", dir, {}, { platform: "linux", keychain: k });
    await opened.store.set("gh", record("v"));
    await opened.store.close();
    for (const key of k.items.keys()) if (key.endsWith("\u0000gh")) k.items.set(key, "garbage");
    const d = await diagnose({ ...base, dataDir: dir, keychain: k });
    expect(d.findings.find((f) => f.check === "store data")).toMatchObject({ level: "fail", message: expect.stringContaining("reading 'gh'"), fix: 'mcp-credentials-broker secret rm "gh", then store it again' });
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

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("doctor: data dir safety and torn writes", () => {
  // POSIX modes and a link to /etc/hostname: not on Windows (ACLs; links need a privilege there).
  it.skipIf(process.platform === "win32")("fails for a data dir writable by others, and for a symbolic link in it", () => {
    const dir = join(tempDir(), "shared");
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    symlinkSync("/etc/hostname", join(dir, "audit.jsonl"));
    const f = checkDataDir(dir, "linux", process.getuid?.());
    expect(f).toContainEqual({ level: "fail", check: "data dir", message: `${dir} is writable by other users (mode 0777): the broker refuses to use it`, fix: `chmod 700 ${dir}` });
    expect(f).toContainEqual({ level: "fail", check: "data files", message: `${join(dir, "audit.jsonl")} is a symbolic link: the broker opens none of its files through a link`, fix: `check who made it, then remove it: rm ${join(dir, "audit.jsonl")}` });
  });

  it("lists copies of torn writes (secrets.jsonl.torn-*, audit.jsonl.torn-*) with what they may hold and when they go", async () => {
    const dir = tempDir();
    const store = new FileStore({ dir });
    await store.set("a", record("value-a"));
    keepTornBytes(join(dir, "secrets.jsonl"), [Buffer.from('{"set":"x","record":{"value":"half')]);
    const d = await diagnose({ ...base, config: loadConfig({ MCB_STORE: "file" }), dataDir: dir, keychain: null });
    const torn = d.findings.filter((x) => x.check === "torn writes");
    expect(torn).toEqual([
      {
        level: "warn",
        check: "torn writes",
        message: expect.stringMatching(new RegExp(`^1 copy of interrupted writes cut off secrets\\.jsonl, which may hold part of a secret value that was never stored: ${escapeRe(join(dir, "secrets.jsonl"))}\\.torn-\\S+ \\(35 bytes, \\S+\\)\\. The broker removes them after 7 days \\(at most 10 kept\\)$`)),
        fix: `look at them if a write went missing, then remove them: rm ${join(dir, "secrets.jsonl")}.torn-*`,
      },
    ]);
  });
});
