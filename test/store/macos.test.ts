// The macOS backend against a recording fake of /usr/bin/security placed first on PATH: the
// Store contract, exact argv, values only on stdin, exit codes, timeouts and garbage output.
import { describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { encodeRecord } from "../../src/store/keychain-codec.ts";
import { KeychainStore } from "../../src/store/keychain.ts";
import { MACOS_SECURITY, MacKeychain, quote } from "../../src/store/macos.ts";
import { describeStoreContract, record } from "../fixtures/store-contract.ts";
import { codeOf } from "../support/broker-error.ts";
import { useFakeHelpers } from "../support/fake-helpers.ts";
import { tempDirs } from "../support/temp-dirs.ts";

const fakes = useFakeHelpers();
const tempDir = tempDirs("mcb-macos-");

function mac(timeoutMs?: number): MacKeychain {
  return new MacKeychain({ security: fakes.security, env: fakes.env, timeoutMs });
}

function open(dir = tempDir(), service = `svc-${randomUUID()}`, timeoutMs?: number): KeychainStore {
  return new KeychainStore({ items: mac(timeoutMs), dir, service });
}


describeStoreContract("macos keychain (recording fake of security)", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcb-macos-contract-"));
  const service = `svc-${randomUUID()}`;
  return { store: open(dir, service), reopen: () => open(dir, service), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});

describe("macos keychain: what reaches the helper", () => {
  it("calls /usr/bin/security by absolute path in production", () => {
    expect(MACOS_SECURITY).toBe("/usr/bin/security");
    expect(isAbsolute(MACOS_SECURITY)).toBe(true);
    expect(new MacKeychain({ env: {} }).description).toContain("/usr/bin/security");
  });

  it("refuses to run a helper by a bare name, even with a `security` first on PATH", async () => {
    const store = new KeychainStore({ items: new MacKeychain({ security: "security", env: fakes.env }), dir: tempDir() });
    expect((await codeOf(store.get("gh"))).code).toBe("INTERNAL");
    expect(fakes.calls()).toEqual([]);
  });

  it("uses exactly these argv: -i for writes, find/delete with names only", async () => {
    const service = `svc-${randomUUID()}`;
    const dir = tempDir();
    const r = record("s3cret");
    await open(dir, service).set("my token", r);
    expect(await open(dir, service).get("my token")).toEqual(r);
    expect(await open(dir, service).delete("my token")).toBe(true);
    expect(await open(dir, service).delete("my token")).toBe(false);
    const calls = fakes.calls();
    expect(calls.map((c) => c.argv)).toEqual([
      ["-i"],
      ["find-generic-password", "-s", service, "-a", "my token", "-w"],
      ["delete-generic-password", "-s", service, "-a", "my token"],
      ["delete-generic-password", "-s", service, "-a", "my token"],
    ]);
    expect(calls.map((c) => c.exit)).toEqual([0, 0, 0, 44]);
    const payload = encodeRecord(r);
    expect(calls[0]!.stdin).toBe(`add-generic-password -U -s "${service}" -a "my token" -w "${payload}"\nfind-generic-password -s "${service}" -a "my token" -w\n`);
  });

  it("sends a planted value only on stdin, also when it spans several items", async () => {
    const canary = `CANARY-${randomUUID()}`;
    const store = open();
    await store.set("small", record(canary));
    await store.set("big", record(`${canary}\n${"x".repeat(20_000)}`));
    expect((await open(tempDir()).get("nothing"))).toBeNull();
    const calls = fakes.calls();
    expect(calls.length).toBeGreaterThan(3);
    for (const c of calls) {
      expect(c.argv.join(" ")).not.toContain(canary);
      expect(c.argv.join(" ")).not.toContain("mcb1");
      expect(c.argv.length === 1 ? c.argv : c.argv.slice(0, 1)).toEqual(c.argv.length === 1 ? ["-i"] : [expect.stringMatching(/^(find|delete)-generic-password$/)]);
    }
    // Every -i line stays under security's 4,096-byte line buffer.
    for (const c of calls) for (const line of c.stdin.split("\n")) expect(Buffer.byteLength(line)).toBeLessThan(4096);
  });

  it("quotes names with quotes, backslashes and spaces so `security -i` reads them back exactly", async () => {
    const dir = tempDir();
    const service = `svc-${randomUUID()}`;
    for (const name of ['say "hi"', "back\\slash\\", "it's", "  spaced  ", "密".repeat(256)]) {
      await open(dir, service).set(name, record(`v:${name}`));
      expect((await open(dir, service).get(name))?.value).toBe(`v:${name}`);
    }
    expect(quote('a "b" \\c')).toBe('"a \\"b\\" \\\\c"');
  });

  it("keeps 256-character multi-byte names and 16 KB values within the 4,096-byte line limit", async () => {
    const dir = tempDir();
    const service = `svc-${randomUUID()}`;
    const name = "密".repeat(256);
    const value = "🔐".repeat(4096);
    await open(dir, service).set(name, record(value));
    expect((await open(dir, service).get(name))?.value).toBe(value);
    for (const c of fakes.calls()) for (const line of c.stdin.split("\n")) expect(Buffer.byteLength(line)).toBeLessThan(4096);
  });
});

describe("macos keychain: failures", () => {
  it("maps exit 44 to not found (null / false)", async () => {
    const store = open();
    expect(await store.get("missing")).toBeNull();
    expect(await store.delete("missing")).toBe(false);
    expect(fakes.calls().map((c) => c.exit)).toEqual([44, 44]);
  });

  it("maps exit 36 to KEYCHAIN_LOCKED for get, set and delete", async () => {
    const dir = tempDir();
    const service = `svc-${randomUUID()}`;
    await open(dir, service).set("gh", record("v"));
    fakes.setMode("locked");
    for (const op of [() => open(dir, service).get("gh"), () => open(dir, service).set("gh", record("w")), () => open(dir, service).delete("gh")]) {
      const e = await codeOf(op());
      expect(e.code).toBe("KEYCHAIN_LOCKED");
      expect(e.message).toContain("security unlock-keychain");
    }
    expect(await mac().probe()).toMatchObject({ state: "ready" });
  });

  it("maps exit 51 to KEYCHAIN_DENIED", async () => {
    fakes.setMode("denied");
    expect((await codeOf(open().get("gh"))).code).toBe("KEYCHAIN_DENIED");
    expect((await codeOf(open().set("gh", record("v")))).code).toBe("KEYCHAIN_DENIED");
  });

  it("reports an unexpected exit code with security's message", async () => {
    fakes.setMode("odd-exit");
    const e = await codeOf(open().get("gh"));
    expect(e.code).toBe("BACKEND_UNAVAILABLE");
    expect(e.message).toContain("exit 3: security: something unexpected happened");
  });

  it("stops a helper that does not answer within the timeout", async () => {
    fakes.setMode("hang");
    const e = await codeOf(open(tempDir(), undefined, 500).get("gh"));
    expect(e.code).toBe("BACKEND_UNAVAILABLE");
    expect(e.message).toContain("did not answer within 500 ms");
    const [call] = fakes.calls();
    expect(call!.exit).toBeNull();
    // It was killed, not left running.
    await Bun.sleep(50);
    expect(() => process.kill(call!.pid, 0)).toThrow();
  });

  it("reports garbage output as a damaged item, naming the secret", async () => {
    const dir = tempDir();
    const service = `svc-${randomUUID()}`;
    await open(dir, service).set("gh", record("v"));
    fakes.setMode("garbage");
    const e = await codeOf(open(dir, service).get("gh"));
    expect(e.code).toBe("STORE_CORRUPT");
    expect(e.message).toContain("'gh'");
  });

  it("notices a write that `security -i` dropped while exiting 0, and does not list the name", async () => {
    fakes.setMode("drops-writes");
    const store = open();
    const e = await codeOf(store.set("gh", record("CANARY-dropped")));
    expect(e.code).toBe("BACKEND_UNAVAILABLE");
    expect(e.message).toContain("did not store");
    expect(e.message).not.toContain("CANARY");
    expect(await store.list()).toEqual([]);
  });
});
