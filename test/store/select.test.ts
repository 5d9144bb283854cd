// Store selection: --store / MCB_STORE, what `auto` picks and why, and the fallback warning.
import { describe, expect, it } from "bun:test";
import { existsSync, lstatSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore, parseMigrationBackend, parseStoreChoice, platformKeychain, STORE_WARNING_SHOWN_FILE, storeWarningIsNew } from "../../src/store/select.ts";
import { KeychainStore } from "../../src/store/keychain.ts";
import { codeOf } from "../support/broker-error.ts";
import { record } from "../fixtures/store-contract.ts";
import { MemoryKeychainItems } from "../support/memory-keychain.ts";
import { tempDirs } from "../support/temp-dirs.ts";

const tempDir = tempDirs("mcb-select-");

function keychain(probe: MemoryKeychainItems["probeResult"]): MemoryKeychainItems {
  const k = new MemoryKeychainItems();
  k.probeResult = probe;
  return k;
}
const UNAVAILABLE = { state: "unavailable", why: "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)", fix: "run in a desktop session" } as const;

describe("parseStoreChoice", () => {
  it("accepts the four choices, defaulting to auto", () => {
    expect(parseStoreChoice(undefined)).toBe("auto");
    // A host (an MCP Bundle's settings form) passes a cleared field as an empty string.
    expect(parseStoreChoice("")).toBe("auto");
    expect(parseStoreChoice("  ")).toBe("auto");
    for (const c of ["auto", "keychain", "file", "memory", "KEYCHAIN"]) expect(parseStoreChoice(c)).toBe(c.toLowerCase() as never);
  });
  it("names the choices when given something else", () => {
    expect(() => parseStoreChoice("vault")).toThrow("auto, keychain, file, memory");
  });
});

describe("parseMigrationBackend", () => {
  it("takes the two persistent backends only: secrets cannot move to or from auto or memory", () => {
    expect(parseMigrationBackend("file", "from")).toBe("file");
    expect(parseMigrationBackend("Keychain", "to")).toBe("keychain");
    for (const bad of ["auto", "memory", "", undefined]) expect(() => parseMigrationBackend(bad, "to")).toThrow("--to must be file or keychain.");
  });
});

describe("openStore", () => {
  it("auto: uses the keychain when it answers, saying so, with no warning", async () => {
    const s = await openStore("auto", tempDir(), {}, { keychain: keychain({ state: "ready", detail: "default keyring unlocked" }) });
    expect(s.store).toBeInstanceOf(KeychainStore);
    expect(s.store.backend).toBe("keychain");
    expect(s.reason).toBe("auto: the OS keychain answers (default keyring unlocked)");
    expect(s.warning).toBeUndefined();
  });

  it("auto: keeps a locked keychain (falling back would hide its secrets) and says how to unlock it", async () => {
    const s = await openStore("auto", tempDir(), {}, { keychain: keychain({ state: "locked", detail: "default keyring locked", fix: "unlock the keyring" }) });
    expect(s.store.backend).toBe("keychain");
    expect(s.reason).toContain("to use it, unlock the keyring");
  });

  it("auto: falls back to the file store with a one-line warning saying why and how to fix it", async () => {
    const dir = tempDir();
    const s = await openStore("auto", dir, {}, { keychain: keychain(UNAVAILABLE) });
    expect(s.store.backend).toBe("file");
    expect(s.reason).toBe("auto: OS keychain unavailable (no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)); using the file store");
    expect(s.warning).toBe(
      `OS keychain unavailable (no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)); keeping secrets in the file ${join(dir, "secrets.jsonl")} instead. To fix: run in a desktop session; or set MCB_STORE=file to choose the file store and silence this warning.`,
    );
    expect(s.warning).not.toContain("\n");
  });

  it("auto: warns that secrets kept in the keychain earlier are out of reach", async () => {
    const dir = tempDir();
    const items = new MemoryKeychainItems();
    await new KeychainStore({ items, dir }).set("gh", record("v"));
    await new KeychainStore({ items, dir }).set("mcb-internal:key", record("k"));
    const s = await openStore("auto", dir, {}, { keychain: keychain(UNAVAILABLE) });
    expect(s.warning).toContain("1 secret(s) stored in the keychain earlier are out of reach until it answers.");
  });

  it("auto on a platform without a keychain backend: the file store, saying so", async () => {
    const s = await openStore("auto", tempDir(), {}, { platform: "aix", keychain: null });
    expect(s.store.backend).toBe("file");
    expect(s.warning).toContain("no OS keychain backend for aix");
  });

  it("keychain: fails instead of falling back, saying why and what to do", async () => {
    const e = await codeOf(openStore("keychain", tempDir(), {}, { keychain: keychain(UNAVAILABLE) }));
    expect(e.code).toBe("BACKEND_UNAVAILABLE");
    expect(e.message).toBe("The OS keychain is unavailable: no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set). To fix, run in a desktop session; or use --store file.");
  });

  it("keychain: uses MCB_KEYCHAIN_SERVICE as the service name", async () => {
    const s = await openStore("keychain", tempDir(), { keychainService: "work-broker" }, { keychain: keychain({ state: "ready", detail: "ok" }) });
    expect(s.store.description).toContain("service 'work-broker'");
  });

  it("file and memory: no keychain probe, no warning", async () => {
    const k = keychain(UNAVAILABLE);
    let probed = 0;
    k.probe = async () => {
      probed++;
      return UNAVAILABLE;
    };
    for (const c of ["file", "memory"] as const) {
      const s = await openStore(c, tempDir(), {}, { keychain: k });
      expect(s.store.backend).toBe(c);
      expect(s.warning).toBeUndefined();
    }
    expect(probed).toBe(0);
  });
});

describe("platformKeychain", () => {
  it("builds each platform's backend with its helper at an absolute path", async () => {
    expect((await platformKeychain("darwin", {}))?.description).toContain("/usr/bin/security");
    expect((await platformKeychain("win32", { SystemRoot: "C:\\Windows" }))?.description).toContain("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe");
    const linux = await platformKeychain("linux", {});
    expect(linux?.kind).toBe("linux");
    expect(linux?.description).toMatch(/via \/(usr\/)?(local\/)?bin\/secret-tool|not installed/);
    expect(await platformKeychain("aix", {})).toBeNull();
  });
});

describe("storeWarningIsNew", () => {
  const W = "OS keychain unavailable (no D-Bus session); keeping secrets in the file /x/secrets.jsonl instead. To fix: …";

  it("says the fallback warning once per data dir, again when it changes or after the keychain answered", () => {
    const dir = tempDir();
    const file = join(dir, STORE_WARNING_SHOWN_FILE);
    expect(storeWarningIsNew(dir, W)).toBe(true);
    expect(readFileSync(file, "utf8")).toBe(W);
    if (process.platform !== "win32") expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(storeWarningIsNew(dir, W)).toBe(false);
    expect(storeWarningIsNew(dir, W)).toBe(false);
    // Another reason (or another count of secrets out of reach): said again, then quiet.
    const other = W.replace("no D-Bus session", "the Secret Service did not answer in time");
    expect(storeWarningIsNew(dir, other)).toBe(true);
    expect(storeWarningIsNew(dir, other)).toBe(false);
    // No warning (the keychain answers, or MCB_STORE=file): the record goes, so the next fallback is said.
    expect(storeWarningIsNew(dir, undefined)).toBe(false);
    expect(existsSync(file)).toBe(false);
    expect(storeWarningIsNew(dir, undefined)).toBe(false);
    expect(storeWarningIsNew(dir, other)).toBe(true);
  });

  it("creates a missing data dir (0700) to record it, and says it every time where nothing can be recorded", () => {
    const dir = join(tempDir(), "new", "home");
    expect(storeWarningIsNew(dir, W)).toBe(true);
    if (process.platform !== "win32") expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(storeWarningIsNew(dir, W)).toBe(false);
    // A data dir under a file can never be created: the warning is said every time, never lost.
    const blocked = join(tempDir(), "file");
    writeFileSync(blocked, "");
    for (let i = 0; i < 2; i++) expect(storeWarningIsNew(join(blocked, "home"), W)).toBe(true);
  });

  it.skipIf(process.platform === "win32")("never writes through a symbolic link planted at the record's name", () => {
    const dir = tempDir();
    const target = join(tempDir(), "victim");
    writeFileSync(target, "keep me");
    symlinkSync(target, join(dir, STORE_WARNING_SHOWN_FILE));
    expect(storeWarningIsNew(dir, W)).toBe(true);
    expect(readFileSync(target, "utf8")).toBe("keep me");
    expect(lstatSync(join(dir, STORE_WARNING_SHOWN_FILE)).isSymbolicLink()).toBe(false);
  });
});
