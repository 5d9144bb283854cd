// The Linux backend against a real GNOME Keyring on a private D-Bus session (as in
// docs/testing.md §Headless GNOME Keyring): the Store contract, a locked collection, a missing Secret Service,
// concurrent writer processes, and no secret in any process's argv.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "bun:test";
import type { Subprocess } from "bun";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { findSystemTool } from "../../src/store/exec.ts";
import { KeychainStore, type KeychainItems, type KeychainProbe } from "../../src/store/keychain.ts";
import { partService } from "../../src/store/keychain-codec.ts";
import { classifyLockedReply, LinuxSecretService, missingSessionBus, type LinuxKeychainOptions } from "../../src/store/linux.ts";
import { KEYRING_COMMANDS, KEYRING_INSTALL, startKeyringSession, type KeyringSession } from "../fixtures/keyring-session.ts";
import { describeStoreContract, record } from "../fixtures/store-contract.ts";
import { valueFor } from "../fixtures/store-writer.ts";
import { startArgvSampler } from "../support/argv-sampler.ts";
import { codeOf } from "../support/broker-error.ts";
import { suiteCanRun } from "../support/requirements.ts";
import { tempDirs } from "../support/temp-dirs.ts";

const WRITER = resolve(import.meta.dir, "../fixtures/store-writer.ts");
const canRun = process.platform === "linux" && suiteCanRun("linux keychain (gnome-keyring)", KEYRING_COMMANDS, KEYRING_INSTALL);

const tempDir = tempDirs("mcb-linux-");
const children: Subprocess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

function linuxItems(env: Record<string, string | undefined>, extra: Partial<LinuxKeychainOptions> = {}): LinuxSecretService {
  return new LinuxSecretService({ secretTool: findSystemTool("secret-tool"), dbusSend: findSystemTool("dbus-send"), env, ...extra });
}

/** KeychainItems that count the calls reaching the real backend (each one is a process spawn). */
function counting(items: KeychainItems): KeychainItems & { reads: number } {
  const c = Object.create(items) as KeychainItems & { reads: number };
  c.reads = 0;
  c.read = (s, a) => {
    c.reads++;
    return items.read(s, a);
  };
  return c;
}


/** Runs secret-tool directly (checks what the keychain really holds). */
function secretTool(env: Record<string, string>, args: string[]): { code: number; stdout: string } {
  const p = Bun.spawnSync(["secret-tool", ...args], { env, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString() };
}

describe("classifyLockedReply (dbus-send's answer to Get Locked)", () => {
  const table: [what: string, reply: { code: number; stdout: string; stderr: string }, state: KeychainProbe["state"], text: RegExp][] = [
    ["unlocked", { code: 0, stdout: "   variant       boolean false\n", stderr: "" }, "ready", /unlocked/],
    ["locked", { code: 0, stdout: "   variant       boolean true\n", stderr: "" }, "locked", /locked/],
    ["no bus", { code: 1, stdout: "", stderr: 'Failed to open connection to "session" message bus: Failed to connect to socket /x: No such file or directory\n' }, "unavailable", /cannot connect to the D-Bus session bus/],
    ["no service", { code: 1, stdout: "", stderr: "Error org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files\n" }, "unavailable", /no Secret Service/],
    ["no default keyring", { code: 1, stdout: "", stderr: "Error org.freedesktop.DBus.Error.UnknownMethod: Object does not exist at path “/org/freedesktop/secrets/collection/login”\n" }, "unavailable", /no default keyring/],
    ["no reply", { code: 1, stdout: "", stderr: "Error org.freedesktop.DBus.Error.NoReply: Did not receive a reply.\n" }, "unavailable", /did not answer/],
    ["garbage", { code: 0, stdout: "what is this\n", stderr: "" }, "unavailable", /unexpected answer/],
  ];
  for (const [what, reply, state, text] of table) {
    it(`reads "${what}"`, () => {
      const p = classifyLockedReply(reply);
      expect(p.state).toBe(state);
      expect(JSON.stringify(p)).toMatch(text);
    });
  }
});

describe("missingSessionBus", () => {
  const none = () => false;
  it("says there is no D-Bus session, without spawning anything, when nothing points at a bus", () => {
    const p = missingSessionBus({ PATH: "/usr/bin" }, none);
    expect(p).toMatchObject({ state: "unavailable", why: expect.stringContaining("DBUS_SESSION_BUS_ADDRESS is not set") });
  });
  it("leaves the decision to a probe when an address, a runtime-dir bus socket or a display exists", () => {
    expect(missingSessionBus({ DBUS_SESSION_BUS_ADDRESS: "unix:path=/x" }, none)).toBeNull();
    expect(missingSessionBus({ XDG_RUNTIME_DIR: "/run/user/1" }, (p) => p === "/run/user/1/bus")).toBeNull();
    expect(missingSessionBus({ XDG_RUNTIME_DIR: "/run/user/1" }, none)).not.toBeNull();
    expect(missingSessionBus({ DISPLAY: ":0" }, none)).toBeNull();
  });
});

if (canRun) {
  describe("linux keychain with an unlocked gnome-keyring", () => {
    let session: KeyringSession;
    beforeAll(async () => {
      session = await startKeyringSession();
    });
    afterAll(async () => {
      await session?.stop();
    });

    describeStoreContract("linux keychain (gnome-keyring)", () => {
      const dir = mkdtempSync(join(tmpdir(), "mcb-linux-contract-"));
      // A fresh service per test keeps tests apart inside the one keyring.
      const service = `mcb-test-${randomUUID()}`;
      const open = () => new KeychainStore({ items: linuxItems(session.env), dir, service });
      return { store: open(), reopen: open, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    });

    it("answers the probe as ready", async () => {
      expect(await linuxItems(session.env).probe()).toMatchObject({ state: "ready" });
    });

    it("keeps every name when 4 processes write 25 each at once, and no value ever appears in a process's argv", async () => {
      const dir = tempDir();
      const service = `mcb-test-${randomUUID()}`;
      const canary = `CANARY-${randomUUID()}-`;
      const sampler = await startArgvSampler();
      let argvs: string[][] = [];
      try {
        const writers = ["w0", "w1", "w2", "w3"].map((prefix) => {
          const p = Bun.spawn([process.execPath, WRITER, "write-keychain", dir, prefix, "25", service], {
            env: { ...session.env, MCB_TEST_VALUE_PREFIX: canary },
            stdin: "ignore",
            stdout: "pipe",
            stderr: "pipe",
          });
          children.push(p);
          return p;
        });
        const results = await Promise.all(writers.map(async (p) => ({ code: await p.exited, stderr: await new Response(p.stderr).text(), out: await new Response(p.stdout).text() })));
        for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
        const fresh = new KeychainStore({ items: linuxItems(session.env), dir, service });
        const names = (await fresh.list()).map((e) => e.name).sort();
        expect(names).toEqual(["w0", "w1", "w2", "w3"].flatMap((w) => Array.from({ length: 25 }, (_, i) => `${w}-${i}`)).sort());
        for (const n of names) expect((await fresh.get(n))?.value).toBe(valueFor(n, canary));
      } finally {
        argvs = await sampler.stop();
      }
      const secretTools = argvs.filter((a) => a[0]?.endsWith("secret-tool"));
      // The sampler did catch the helpers at work, so it would have caught a leak.
      expect(secretTools.some((a) => a[1] === "store")).toBe(true);
      expect(secretTools.some((a) => a[1] === "lookup")).toBe(true);
      for (const a of argvs) expect(a.join(" ")).not.toContain(canary);
      // `secret-tool search` prints secrets in plain text: never used.
      expect(secretTools.filter((a) => a[1] === "search")).toEqual([]);
    }, 120_000);

    it("serves repeated reads from its cache and sees another process's write at once", async () => {
      const dir = tempDir();
      const service = `mcb-test-${randomUUID()}`;
      const items = counting(linuxItems(session.env));
      const reader = new KeychainStore({ items, dir, service });
      const writer = new KeychainStore({ items: linuxItems(session.env), dir, service });
      await writer.set("gh", record("v1"));
      expect((await reader.get("gh"))?.value).toBe("v1");
      const afterFirst = items.reads;
      for (let i = 0; i < 20; i++) expect((await reader.get("gh"))?.value).toBe("v1");
      expect(items.reads).toBe(afterFirst);
      await writer.set("gh", record("v2"));
      expect((await reader.get("gh"))?.value).toBe("v2");
      expect(items.reads).toBe(afterFirst + 1);
    });

    it("splits a value above secret-tool's 8 KB stdin limit over several items and removes the old parts on overwrite", async () => {
      const dir = tempDir();
      const service = `mcb-test-${randomUUID()}`;
      const big = "é".repeat(32 * 1024); // 64 KiB of UTF-8, the broker's largest value
      const store = new KeychainStore({ items: linuxItems(session.env), dir, service });
      await store.set("big", record(big));
      const head = secretTool(session.env, ["lookup", "service", service, "account", "big"]);
      const m = /^mcb1p:([0-9a-f]{12}):(\d+):/.exec(head.stdout);
      expect(m).not.toBeNull();
      const firstPart = partService(service, m![1]!, 0);
      expect(secretTool(session.env, ["lookup", "service", firstPart, "account", "big"]).code).toBe(0);
      expect((await new KeychainStore({ items: linuxItems(session.env), dir, service }).get("big"))?.value).toBe(big);
      await store.set("big", record("small now"));
      expect(secretTool(session.env, ["lookup", "service", firstPart, "account", "big"])).toEqual({ code: 1, stdout: "" });
      expect((await new KeychainStore({ items: linuxItems(session.env), dir, service }).get("big"))?.value).toBe("small now");
    });
  });

  describe("linux keychain with a locked collection", () => {
    let session: KeyringSession;
    const dir = mkdtempSync(join(tmpdir(), "mcb-linux-locked-"));
    const service = `mcb-test-${randomUUID()}`;
    // A hang would end in the helper timeout (BACKEND_UNAVAILABLE), not in KEYCHAIN_LOCKED.
    const open = () => new KeychainStore({ items: linuxItems(session.env, { timeoutMs: 5_000 }), dir, service });
    beforeAll(async () => {
      session = await startKeyringSession();
      await open().set("stored-before-lock", record("v"));
      await session.lock();
    });
    afterAll(async () => {
      await session?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("reports the keyring as locked", async () => {
      expect(await linuxItems(session.env).probe()).toMatchObject({ state: "locked" });
    });

    it("gives KEYCHAIN_LOCKED, not null, for a stored name and for a missing one", async () => {
      for (const name of ["stored-before-lock", "never-stored"]) {
        const e = await codeOf(open().get(name));
        expect(e.code).toBe("KEYCHAIN_LOCKED");
        expect(e.message).toMatch(/unlock/);
      }
    });

    it("gives KEYCHAIN_LOCKED for set and delete, and lists from the index without the keychain", async () => {
      expect((await codeOf(open().set("new", record("x")))).code).toBe("KEYCHAIN_LOCKED");
      expect((await codeOf(open().delete("stored-before-lock"))).code).toBe("KEYCHAIN_LOCKED");
      expect((await open().list()).map((e) => e.name)).toEqual(["stored-before-lock"]);
    });
  });

  describe("linux keychain without a usable Secret Service", () => {
    it("says there is no Secret Service on a bus without one", async () => {
      const session = await startKeyringSession({ kind: "no-service" });
      try {
        expect(await linuxItems(session.env).probe()).toMatchObject({ state: "unavailable", why: expect.stringContaining("no Secret Service") });
        const e = await codeOf(new KeychainStore({ items: linuxItems(session.env), dir: tempDir() }).get("x"));
        expect(e.code).toBe("BACKEND_UNAVAILABLE");
        expect(e.message).toContain("no Secret Service");
      } finally {
        await session.stop();
      }
    });

    it("says there is no default keyring when gnome-keyring starts without one", async () => {
      const session = await startKeyringSession({ kind: "no-keyring" });
      try {
        expect(await linuxItems(session.env).probe()).toMatchObject({ state: "unavailable", why: expect.stringContaining("no default keyring") });
      } finally {
        await session.stop();
      }
    });

    it("says it cannot connect when the bus address leads nowhere", async () => {
      const env = { PATH: process.env.PATH, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(tempDir(), "no-bus")}` };
      expect(await linuxItems(env).probe()).toMatchObject({ state: "unavailable", why: expect.stringContaining("cannot connect") });
      expect((await codeOf(new KeychainStore({ items: linuxItems(env), dir: tempDir() }).get("x"))).code).toBe("BACKEND_UNAVAILABLE");
    });

    it("says secret-tool is not installed, with the install command", async () => {
      const p = await linuxItems({ DBUS_SESSION_BUS_ADDRESS: "unix:path=/x" }, { secretTool: null }).probe();
      expect(p).toMatchObject({ state: "unavailable", why: "secret-tool is not installed", fix: expect.stringContaining("apt install libsecret-tools") });
    });
  });
}
