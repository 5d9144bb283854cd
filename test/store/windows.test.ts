// The Windows backend against recording fakes of `powershell` and `pwsh` placed first on PATH:
// the Store contract, exact argv, script and value only on stdin, the Credential Manager blob
// limit, Win32 errors, timeouts and garbage output.
import { describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, win32 } from "node:path";
import { encodeRecord } from "../../src/store/keychain-codec.ts";
import { KeychainStore } from "../../src/store/keychain.ts";
import { SecretRecordSchema } from "../../src/core/store.ts";
import { CRED_MAX_BLOB, POWERSHELL_ARGS, WindowsCredentialManager, credScript, windowsPowerShellPath } from "../../src/store/windows.ts";
import { describeStoreContract, record } from "../fixtures/store-contract.ts";
import { codeOf } from "../support/broker-error.ts";
import { useFakeHelpers } from "../support/fake-helpers.ts";
import { tempDirs } from "../support/temp-dirs.ts";

const fakes = useFakeHelpers();
const tempDir = tempDirs("mcb-windows-");

function creds(opts: { timeoutMs?: number; powershell?: string } = {}): WindowsCredentialManager {
  return new WindowsCredentialManager({ powershell: opts.powershell ?? fakes.powershell, env: fakes.env, timeoutMs: opts.timeoutMs });
}

function open(dir = tempDir(), service = `svc-${randomUUID()}`, opts: { timeoutMs?: number; powershell?: string } = {}): KeychainStore {
  return new KeychainStore({ items: creds(opts), dir, service });
}

/** The requests a recorded script carried (what the fake decoded). */
function requestsOf(stdin: string): { op: string; target: string; account?: string; blob?: string }[] {
  const m = /FromBase64String\('([A-Za-z0-9+/=]*)'\)/.exec(stdin);
  return JSON.parse(Buffer.from(m![1]!, "base64").toString("utf8")).requests;
}

describeStoreContract("windows credential manager (recording fake of powershell)", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcb-windows-contract-"));
  const service = `svc-${randomUUID()}`;
  return { store: open(dir, service), reopen: () => open(dir, service), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});

describe("windows credential manager: what reaches the helper", () => {
  it("runs Windows PowerShell by absolute path under %SystemRoot% in production", () => {
    const p = windowsPowerShellPath({ SystemRoot: "C:\\Windows" });
    expect(p).toBe("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe");
    expect(win32.isAbsolute(p)).toBe(true);
    expect(win32.isAbsolute(windowsPowerShellPath({}))).toBe(true);
  });

  it("passes only fixed flags in argv; the script and the value go on stdin", async () => {
    const canary = `CANARY-${randomUUID()}`;
    const dir = tempDir();
    const service = `svc-${randomUUID()}`;
    const r = SecretRecordSchema.parse(record(canary, { tags: { env: "prod" } }));
    await open(dir, service).set("gh", r);
    expect(await open(dir, service).get("gh")).toEqual(r);
    expect(await open(dir, service).delete("gh")).toBe(true);
    const calls = fakes.calls();
    expect(calls.map((c) => c.argv)).toEqual([[...POWERSHELL_ARGS], [...POWERSHELL_ARGS], [...POWERSHELL_ARGS]]);
    expect(calls.map((c) => requestsOf(c.stdin))).toEqual([
      [{ op: "write", target: `${service}:gh`, account: "gh", blob: encodeRecord(r) }],
      [{ op: "read", target: `${service}:gh` }],
      [{ op: "delete", target: `${service}:gh` }],
    ]);
    for (const c of calls) expect(c.argv.join(" ")).not.toContain(canary);
    expect(calls[0]!.stdin).toBe(credScript([{ op: "write", target: `${service}:gh`, account: "gh", blob: encodeRecord(r) }]));
  });

  it("works the same through pwsh", async () => {
    const dir = tempDir();
    await open(dir, "svc", { powershell: fakes.pwsh }).set("gh", record("v"));
    expect((await open(dir, "svc", { powershell: fakes.pwsh }).get("gh"))?.value).toBe("v");
    expect(fakes.calls().map((c) => c.tool)).toEqual(["pwsh", "pwsh"]);
  });

  it("writes every script line as one complete statement (`-Command -` runs stdin line by line)", () => {
    const lines = credScript([{ op: "write", target: "s:n", account: "n", blob: "mcb1:x" }]).split("\n").filter(Boolean);
    for (const line of lines) {
      const opens = (line.match(/[{(]/g) ?? []).length;
      const closes = (line.match(/[})]/g) ?? []).length;
      expect({ line: line.slice(0, 40), balanced: opens === closes }).toEqual({ line: line.slice(0, 40), balanced: true });
    }
    expect(lines.at(-1)).toBe("exit 0");
  });
});

describe("windows credential manager: the 2,560-byte blob limit", () => {
  // Payloads are "mcb1:" + base64, so their lengths are 5 + 4k: 2,557 fits one item, 2,561 does not.
  function recordWithPayloadLength(n: number) {
    for (let len = 0; len < 4000; len++) {
      const r = record("v".repeat(len));
      if (encodeRecord(r).length === n) return r;
    }
    throw new Error(`no record encodes to ${n} characters`);
  }

  it("keeps a payload of up to 2,560 bytes in one item and splits a longer one; no item exceeds the limit", async () => {
    const dir = tempDir();
    const fits = recordWithPayloadLength(CRED_MAX_BLOB - 3);
    const over = recordWithPayloadLength(CRED_MAX_BLOB + 1);
    await open(dir, "svc").set("fits", fits);
    expect(fakes.calls().flatMap((c) => requestsOf(c.stdin).map((q) => q.target))).toEqual(["svc:fits"]);
    fakes.clearCalls();
    await open(dir, "svc").set("over", over);
    // The parts in one PowerShell run, then the head item that names them.
    const runs = fakes.calls().map((c) => requestsOf(c.stdin).map((q) => q.target));
    expect(runs).toHaveLength(2);
    expect(runs[0]!.every((t) => /^svc\/part\/[0-9a-f]{12}\/[01]:over$/.test(t))).toEqual(true);
    expect(runs[0]).toHaveLength(2);
    expect(runs[1]).toEqual(["svc:over"]);
    expect(await open(dir, "svc").get("fits")).toEqual(fits);
    expect(await open(dir, "svc").get("over")).toEqual(over);
    for (const c of fakes.calls()) for (const q of requestsOf(c.stdin)) expect((q.blob ?? "").length).toBeLessThanOrEqual(CRED_MAX_BLOB);
  });

  it("refuses a single item above the limit with a clear error instead of calling PowerShell", async () => {
    const e = await codeOf(creds().write("svc", "gh", "x".repeat(CRED_MAX_BLOB + 1)));
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.message).toContain("2560 bytes");
    expect(fakes.calls()).toEqual([]);
  });
});

describe("windows credential manager: failures", () => {
  it("maps ERROR_NOT_FOUND to not found (null / false)", async () => {
    const store = open();
    expect(await store.get("missing")).toBeNull();
    expect(await store.delete("missing")).toBe(false);
  });

  it("maps ERROR_NO_SUCH_LOGON_SESSION to BACKEND_UNAVAILABLE saying why", async () => {
    fakes.setMode("no-logon-session");
    const e = await codeOf(open().get("gh"));
    expect(e.code).toBe("BACKEND_UNAVAILABLE");
    expect(e.message).toContain("logon session");
    expect(await creds().probe(true)).toMatchObject({ state: "unavailable" });
  });

  it("maps ERROR_ACCESS_DENIED to KEYCHAIN_DENIED", async () => {
    fakes.setMode("denied");
    expect((await codeOf(open().set("gh", record("v")))).code).toBe("KEYCHAIN_DENIED");
  });

  it("reports garbage output clearly", async () => {
    fakes.setMode("garbage");
    const e = await codeOf(open().get("gh"));
    expect(e.code).toBe("BACKEND_UNAVAILABLE");
    expect(e.message).toContain("no answer the broker understands");
  });

  it("never echoes PowerShell's error text for a write, which quotes the script line holding the value", async () => {
    const canary = `CANARY-${randomUUID()}`;
    fakes.setMode("crash");
    const e = await codeOf(open().set("gh", record(canary)));
    expect(e.code).toBe("BACKEND_UNAVAILABLE");
    expect(e.message).not.toContain("FromBase64String");
    expect(e.message).not.toContain(canary);
    // A read carries no value, so its error may say what PowerShell said.
    expect((await codeOf(open().get("gh"))).message).toContain("At line:2 char:1");
  });

  it("stops a PowerShell that does not answer within the timeout", async () => {
    fakes.setMode("hang");
    const e = await codeOf(open(tempDir(), "svc", { timeoutMs: 500 }).get("gh"));
    expect(e.code).toBe("BACKEND_UNAVAILABLE");
    expect(e.message).toContain("did not answer within 500 ms");
    const [call] = fakes.calls();
    await Bun.sleep(50);
    expect(() => process.kill(call!.pid, 0)).toThrow();
  });

  it("probes quickly by looking for powershell.exe, thoroughly with one round trip", async () => {
    expect(await creds().probe()).toMatchObject({ state: "ready" });
    expect(fakes.calls()).toEqual([]);
    expect(await creds().probe(true)).toMatchObject({ state: "ready" });
    expect(fakes.calls()).toHaveLength(1);
    expect(await creds({ powershell: join(tempDir(), "powershell.exe") }).probe()).toMatchObject({ state: "unavailable" });
  });
});
