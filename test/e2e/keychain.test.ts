// The compiled binary with its storage backends: the real GNOME Keyring on a private D-Bus
// session (auto picks it; two processes see each other's writes; migrate loses nothing; a
// locked keyring says so), and no D-Bus session at all (auto falls back to the file store
// with one warning line; --store keychain refuses).
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KEYRING_COMMANDS, KEYRING_INSTALL, startKeyringSession, type KeyringSession } from "../fixtures/keyring-session.ts";
import { startArgvSampler } from "../support/argv-sampler.ts";
import { suiteCanRun } from "../support/requirements.ts";
import { body, connectBroker, FALLBACK_WARNING, runCli, tempHome, withoutFallbackWarning } from "./harness.ts";

const canRun = process.platform === "linux" && suiteCanRun("e2e keychain (gnome-keyring)", KEYRING_COMMANDS, KEYRING_INSTALL);
const canary = () => `CANARY-${randomUUID()}`;

/** Every file in a data dir, concatenated (no value may be in any of them with the keychain backend). */
function dataDirText(home: string): string {
  return readdirSync(home)
    .map((f) => readFileSync(join(home, f), "utf8"))
    .join("\n");
}

if (canRun) {
  describe("keychain backend, real gnome-keyring", () => {
    let session: KeyringSession;
    // Keychain items are per user, not per data dir: a test that needs the keychain to itself
    // (migrate refuses to overwrite another data dir's keys) names its own service.
    const bus = (service = "mcp-credentials-broker") => ({ DBUS_SESSION_BUS_ADDRESS: session.address, MCB_KEYCHAIN_SERVICE: service });
    beforeAll(async () => {
      session = await startKeyringSession();
    });
    afterAll(async () => {
      await session?.stop();
    });

    it("auto picks the keychain because it answers; status and doctor say so, with no warning", async () => {
      const home = tempHome();
      const st = await runCli(["status", "--json"], { home, env: bus() });
      expect({ code: st.code, stderr: st.stderr }).toEqual({ code: 0, stderr: "" });
      const s = JSON.parse(st.stdout);
      expect(s.store.backend).toBe("keychain");
      expect(s.store.reason).toStartWith("auto: the OS keychain answers (Secret Service answers; default keyring unlocked)");
      expect(s.store.description).toContain("Secret Service");
      const doc = await runCli(["doctor", "--json"], { home, env: { ...bus(), HOME: home } });
      expect(doc.code).toBe(0);
      const d = JSON.parse(doc.stdout);
      expect(d.storage.keychain).toMatchObject({ state: "ready" });
      expect(d.storage.store).toMatchObject({ choice: "auto", backend: "keychain" });
      expect(d.storage.findings.filter((f: { level: string }) => f.level !== "ok")).toEqual([]);
      expect(d.problems).toEqual([]);
    });

    it("shares secrets between a running broker and CLI processes, both ways, with no value in argv or the data dir", async () => {
      const home = tempHome();
      const [v1, v2] = [canary(), canary()];
      const sampler = await startArgvSampler();
      let argvs: string[][] = [];
      const broker = await connectBroker({ home, env: bus() });
      try {
        expect(body(await broker.client.callTool({ name: "store_secret", arguments: { name: "deploy key", value: v1 } })).success).toBe(true);
        const read = await runCli(["secret", "get", "deploy key"], { home, env: bus() });
        expect({ code: read.code, stdout: read.stdout, stderr: read.stderr }).toEqual({ code: 0, stdout: v1, stderr: "" });
        const resolve = async () => {
          const ref = body(await broker.client.callTool({ name: "get_secret", arguments: { name: "deploy key", purpose: "e2e" } })).reference.id;
          return body(await broker.client.callTool({ name: "resolve_secret", arguments: { reference_id: ref } })).value;
        };
        expect(await resolve()).toBe(v1);
        // Another process writes: the running broker's cache must not serve the old value.
        expect((await runCli(["secret", "set", "deploy key"], { home, env: bus(), input: v2 })).code).toBe(0);
        expect(await resolve()).toBe(v2);
        expect(broker.stderr()).toBe("");
      } finally {
        await broker.close();
        argvs = await sampler.stop();
      }
      expect(existsSync(join(home, "secrets.jsonl"))).toBe(false);
      const files = dataDirText(home);
      for (const v of [v1, v2]) {
        expect(files).not.toContain(v);
        for (const a of argvs) expect(a.join(" ")).not.toContain(v);
      }
      expect(argvs.some((a) => a[0]?.endsWith("secret-tool") && a[1] === "store")).toBe(true);
    }, 60_000);

    it("`secret migrate` moves secrets and the signing key file → keychain → file, losing nothing", async () => {
      const home = tempHome();
      const v = canary();
      expect((await runCli(["secret", "set", "api", "--store", "file"], { home, input: v })).code).toBe(0);
      const minted = JSON.parse((await runCli(["token", "mint", "github", "--json", "--store", "file"], { home })).stdout);

      const env = bus(`mcb-e2e-${randomUUID()}`);
      const there = await runCli(["secret", "migrate", "--from", "file", "--to", "keychain"], { home, env });
      expect({ code: there.code, stderr: there.stderr }).toEqual({ code: 0, stderr: "" });
      expect(there.stdout).toBe("Moved 1 secret(s) and 3 internal item(s) (the broker's signing and audit keys) from file to keychain.\n  api\n");
      expect((await runCli(["secret", "get", "api", "--store", "keychain"], { home, env })).stdout).toBe(v);
      // The audit chain key moved with them: the chain is still proven, now with the keychain's copy.
      const verified = await runCli(["audit", "--verify", "--store", "keychain"], { home, env });
      expect(verified.code).toBe(0);
      expect(verified.stdout).toMatch(/\nproven: \d+ line\(s\) carry a MAC under this store's audit key/);
      expect((await runCli(["token", "verify", "--store", "keychain"], { home, env, input: minted.token })).code).toBe(0);
      expect(JSON.parse((await runCli(["secret", "list", "--json", "--store", "file"], { home })).stdout)).toEqual([]);
      // Moved means gone: not even in the file store's log history.
      expect(readFileSync(join(home, "secrets.jsonl"), "utf8")).not.toContain(v);

      const back = await runCli(["secret", "migrate", "--from", "keychain", "--to", "file", "--json"], { home, env });
      expect(JSON.parse(back.stdout)).toEqual({ from: "keychain", to: "file", secrets: ["api"], internal: 3, unchanged: [], removedFromSource: true });
      expect((await runCli(["secret", "get", "api", "--store", "file"], { home })).stdout).toBe(v);
      expect((await runCli(["token", "verify", "--store", "file"], { home, input: minted.token })).code).toBe(0);
      expect(JSON.parse((await runCli(["secret", "list", "--json", "--store", "keychain"], { home, env })).stdout)).toEqual([]);
      // Each migration is audited (intent before, outcome after), naming the backends, never a value.
      const audit = readFileSync(join(home, "audit.jsonl"), "utf8");
      const migrations = audit.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === "migrate");
      expect(migrations.map((l) => [l.outcome, l.target])).toEqual([
        ["intent", "file → keychain"],
        ["ok", "file → keychain"],
        ["intent", "keychain → file"],
        ["ok", "keychain → file"],
      ]);
      expect(audit).not.toContain(v);
    }, 60_000);
  });

  describe("keychain backend, locked gnome-keyring", () => {
    let session: KeyringSession;
    let home: string;
    beforeAll(async () => {
      session = await startKeyringSession();
      home = tempHome();
      await runCli(["secret", "set", "gh"], { home, env: { DBUS_SESSION_BUS_ADDRESS: session.address }, input: canary() });
      await session.lock();
    });
    afterAll(async () => {
      await session?.stop();
    });

    it("gives a clear KEYCHAIN_LOCKED error (exit 1), not 'no secret', and doctor says locked", async () => {
      const env = { DBUS_SESSION_BUS_ADDRESS: session.address };
      const r = await runCli(["secret", "get", "gh"], { home, env });
      expect(r.code).toBe(1);
      expect(r.stderr).toStartWith("error: The Secret Service keyring is locked, so the secret cannot be read. To fix, unlock the keyring");
      const d = JSON.parse((await runCli(["doctor", "--json"], { home, env: { ...env, HOME: home } })).stdout);
      expect(d.storage.keychain.state).toBe("locked");
      expect(d.storage.store.backend).toBe("keychain");
    });
  });
}

describe("no D-Bus session", () => {
  it("auto falls back to the file store with exactly one warning line on stderr, and works", async () => {
    const home = tempHome();
    const v = canary();
    const set = await runCli(["secret", "set", "gh"], { home, input: v });
    expect(set.code).toBe(0);
    expect(set.stderr).toMatch(FALLBACK_WARNING);
    expect(withoutFallbackWarning(set.stderr)).toBe("Stored secret 'gh'.\n");
    expect(set.stderr).toMatch(/\(no D-Bus session \(DBUS_SESSION_BUS_ADDRESS is not set\)|\(cannot connect to the D-Bus session bus/);
    const st = JSON.parse((await runCli(["status", "--json"], { home })).stdout);
    expect(st.store.backend).toBe("file");
    expect(st.store.reason).toStartWith("auto: OS keychain unavailable (");
    expect((await runCli(["secret", "get", "gh"], { home })).stdout).toBe(v);
  });

  it("says the warning once per data dir until something changes; status and doctor show it every time", async () => {
    const home = tempHome();
    const first = await runCli(["secret", "list"], { home });
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(FALLBACK_WARNING);
    expect(first.stderr).toContain("(Said once for this data dir until the reason changes; `mcp-credentials-broker status` and `doctor` show it.)");
    for (const args of [["secret", "list"], ["secret", "set", "gh"], ["secret", "list"]]) {
      const r = await runCli(args, { home, input: canary() });
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain("OS keychain unavailable");
    }
    // status has it in its report (not on stderr), human and JSON; doctor warns — every time.
    for (let i = 0; i < 2; i++) {
      const st = await runCli(["status"], { home });
      expect(st.stdout).toMatch(/^warning: {7}OS keychain unavailable \(.+\); keeping secrets in the file .+secrets\.jsonl instead\./m);
      expect(st.stderr).toBe("");
      expect(JSON.parse((await runCli(["status", "--json"], { home })).stdout).store.warning).toStartWith("OS keychain unavailable (");
      const doc = await runCli(["doctor"], { home, env: { HOME: home } });
      expect(doc.stdout).toMatch(/^ {2}warn {2}store {7}file: /m);
      expect(doc.stdout).toMatch(/^ {2}warn {2}keychain {4}OS keychain unavailable: /m);
    }
    expect(withoutFallbackWarning((await runCli(["secret", "list"], { home })).stderr)).toBe("");
    // Something changed (secrets kept in the keychain earlier are now out of reach): said again, once.
    writeFileSync(join(home, "keychain-index.json"), JSON.stringify({ entries: { "old-token": {} } }));
    const changed = await runCli(["secret", "list"], { home });
    expect(changed.stderr).toMatch(FALLBACK_WARNING);
    expect(changed.stderr).toContain("1 secret(s) stored in the keychain earlier are out of reach");
    expect((await runCli(["secret", "list"], { home })).stderr).not.toContain("OS keychain unavailable");
    // The file store chosen on purpose clears the record: falling back later is said again.
    expect((await runCli(["secret", "list"], { home, env: { MCB_STORE: "file" } })).stderr).toBe("");
    expect((await runCli(["secret", "list"], { home })).stderr).toMatch(FALLBACK_WARNING);
  });

  it("MCB_STORE=file chooses the file store on purpose: no warning", async () => {
    const home = tempHome();
    const r = await runCli(["secret", "list"], { home, env: { MCB_STORE: "file" } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  });

  it("--store keychain refuses (exit 1) saying why and what to do, instead of falling back", async () => {
    const home = tempHome();
    const r = await runCli(["secret", "set", "gh", "--store", "keychain"], { home, input: canary() });
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith("error: The OS keychain is unavailable: ");
    expect(r.stderr).toContain("or use --store file.");
    expect(existsSync(join(home, "secrets.jsonl"))).toBe(false);
  });

  it("doctor explains the fallback and exits 0; with --store keychain it exits 1", async () => {
    const home = tempHome();
    const ok = await runCli(["doctor"], { home, env: { HOME: home } });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^storage:\n {2}warn {2}store {7}file: /m);
    expect(ok.stdout).toMatch(/^ {2}warn {2}keychain {4}OS keychain unavailable: /m);
    expect(ok.stdout).toMatch(/^ {20}fix: /m);
    expect(ok.stdout).toMatch(/^data dir:\n {2}ok {4}data dir {4}/m);
    const asked = await runCli(["doctor", "--store", "keychain"], { home, env: { HOME: home } });
    expect(asked.code).toBe(1);
    expect(asked.stdout).toMatch(/^ {2}- The OS keychain is unavailable: /m);
  });
});
