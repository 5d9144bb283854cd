// `run` through the compiled binary: an SDK Client talks to a fixture MCP server wrapped by
// `run --env TOKEN=secret:t`, which proves what it received; masking, exit codes, signals, and
// the refusal to start when a secret is missing or expired.
import { afterAll, describe, expect, it } from "bun:test";
import { createHash, randomUUID } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { readAuditLog } from "../../src/files/audit-reader.ts";
import { FileStore } from "../../src/store/file.ts";
import { body, connectCommand, readOr, runCli, tempHome, withoutFallbackWarning, type ConnectedCommand } from "./harness.ts";

const FIXTURE = resolve(import.meta.dir, "../fixtures/echo-mcp-server.ts");
const BUN = process.execPath;
const SERVER = [BUN, FIXTURE];
/** Generous: a deadline so a hung process fails the test instead of hanging it, not a speed check. */
const EXIT_DEADLINE_MS = 10_000;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

async function exitOf(c: ConnectedCommand) {
  const timedOut = Symbol("timeout");
  const r = await Promise.race([c.exited, Bun.sleep(EXIT_DEADLINE_MS).then(() => timedOut)]);
  if (r === timedOut) {
    c.child.kill("SIGKILL");
    throw new Error("run did not exit before the deadline");
  }
  return r as { code: number | null; signal: NodeJS.Signals | null };
}

const text = (r: unknown) => (r as { content: { text: string }[] }).content[0]!.text;

describe("run: an MCP server wrapped by `run --env TOKEN=secret:t`", () => {
  const home = tempHome("mcb-run-");
  const token = `CANARY-${randomUUID()}`;
  // A value with characters JSON escapes (quote, backslash, non-ASCII): it appears escaped on the wire.
  const special = `CANARY-${randomUUID()}"\\päss`;
  const storeKey = `store-key-${randomUUID()}`;
  const env = { MCB_STORE_KEY: storeKey };
  let c: ConnectedCommand;

  afterAll(() => {
    c?.child.kill("SIGKILL");
  });

  it("starts the server with the secrets in its environment; the MCP session works through the wrapper", async () => {
    expect((await runCli(["secret", "set", "t"], { home, env, input: token })).code).toBe(0);
    expect((await runCli(["secret", "set", "special"], { home, env, input: special })).code).toBe(0);
    c = await connectCommand(["run", "--env", "TOKEN=secret:t", "--env", "SPECIAL=secret:special", "--", ...SERVER], { home, env, clientName: "run-e2e" });
    expect((await c.client.listTools()).tools.map((t) => t.name).sort()).toEqual(["blob", "echo_env", "env_names", "exit_with", "log_env", "sha256_env"]);
    expect(text(await c.client.callTool({ name: "sha256_env", arguments: { name: "TOKEN" } }))).toBe(sha256(token));
    expect(text(await c.client.callTool({ name: "sha256_env", arguments: { name: "SPECIAL" } }))).toBe(sha256(special));
  });

  it("does not hand the broker's own store key to the wrapped server", async () => {
    const names = JSON.parse(text(await c.client.callTool({ name: "env_names", arguments: {} }))) as string[];
    expect(names).toContain("TOKEN");
    expect(names).toContain("MCB_HOME");
    expect(names).not.toContain("MCB_STORE_KEY");
  });

  it("masks a token the server echoes back, in one read or split across reads, and the JSON-RPC stream stays valid", async () => {
    for (const split of [false, true]) {
      expect(body(await c.client.callTool({ name: "echo_env", arguments: { name: "TOKEN", split } })).value).toBe("<redacted:TOKEN>");
      expect(body(await c.client.callTool({ name: "echo_env", arguments: { name: "SPECIAL", split } })).value).toBe("<redacted:SPECIAL>");
    }
    expect(c.transport.invalidLines).toEqual([]);
    expect(c.transport.rawStdout).not.toContain(token);
    expect(c.transport.rawStdout).not.toContain(token.slice(0, 20));
    expect(c.transport.rawStdout).toContain("<redacted:TOKEN>");
  });

  it("masks the token in the server's stderr", async () => {
    expect(text(await c.client.callTool({ name: "log_env", arguments: { name: "TOKEN" } }))).toBe("logged");
    // stderr is not ordered with the response: wait until the line arrives.
    for (let i = 0; i < 100 && !c.stderr().includes("fixture log:"); i++) await Bun.sleep(20);
    expect(c.stderr()).toContain("fixture log: <redacted:TOKEN>");
    expect(c.stderr()).not.toContain(token);
  });

  it("keeps the secret out of the broker's argv", () => {
    const cmdline = readOr(`/proc/${c.child.pid}/cmdline`);
    expect(cmdline).toContain("secret:t");
    expect(cmdline).not.toContain(token);
    expect(readOr(`/proc/${c.child.pid}/environ`)).not.toContain(token);
  });

  it("returns the server's exit code", async () => {
    expect(text(await c.client.callTool({ name: "exit_with", arguments: { code: 7 } }))).toBe("exiting with 7");
    expect(await exitOf(c)).toEqual({ code: 7, signal: null });
    expect(c.stderr()).not.toContain(token);
  });

  it("audits each injection with client 'run', the command as purpose and a fingerprint — never the value", () => {
    const lines = readAuditLog(join(home, "audit.jsonl")).filter((l) => l.event === "inject");
    expect(lines.map((l) => [l.name, l.env, l.client, l.purpose, l.outcome])).toEqual([
      ["t", "TOKEN", "run", basename(BUN), "ok"],
      ["special", "SPECIAL", "run", basename(BUN), "ok"],
    ]);
    expect(lines[0]!.fp).toMatch(/^[0-9a-f]{32}$/);
    const raw = readOr(join(home, "audit.jsonl"));
    expect(raw).not.toContain(token);
    expect(raw).not.toContain(JSON.stringify(special).slice(1, -1));
  });

  it("passes the raw value through with --no-masking (the positive control)", async () => {
    const plain = await connectCommand(["run", "--no-masking", "--env", "TOKEN=secret:t", "--", ...SERVER], { home, env });
    try {
      expect(body(await plain.client.callTool({ name: "echo_env", arguments: { name: "TOKEN" } })).value).toBe(token);
    } finally {
      await plain.client.close();
    }
    expect((await exitOf(plain)).code).toBe(0);
  });
});

describe("run: signals and refusals", () => {
  const home = tempHome("mcb-run-");
  const token = `CANARY-${randomUUID()}`;

  it("forwards SIGTERM to the server and exits 128+15 when the signal ends it", async () => {
    expect((await runCli(["secret", "set", "t"], { home, input: token })).code).toBe(0);
    const signalFile = join(home, "signal.txt");
    const c = await connectCommand(["run", "--env", "TOKEN=secret:t", "--", ...SERVER], { home, env: { FIXTURE_SIGNAL_FILE: signalFile } });
    expect(text(await c.client.callTool({ name: "sha256_env", arguments: { name: "TOKEN" } }))).toBe(sha256(token));
    c.child.kill("SIGTERM");
    expect(await exitOf(c)).toEqual({ code: 143, signal: null });
    expect(readOr(signalFile)).toBe("SIGTERM");
  });

  it("passes stdin through: the server exits when its client closes the pipe", async () => {
    const c = await connectCommand(["run", "--env", "TOKEN=secret:t", "--", ...SERVER], { home });
    await c.client.listTools();
    await c.client.close();
    expect(await exitOf(c)).toEqual({ code: 0, signal: null });
  });

  it("exits non-zero before starting the command when a secret is missing, saying how to add it", async () => {
    const marker = join(home, "started-missing");
    const r = await runCli(["run", "--env", "TOKEN=secret:t", "--env", "OTHER=secret:not-there", "--", "sh", "-c", `touch ${marker}`], { home });
    expect(r.code).toBe(1);
    expect(existsSync(marker)).toBe(false);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("OTHER: no secret named 'not-there'");
    expect(r.stderr).toContain("mcp-credentials-broker secret set not-there");
    expect(r.stderr).not.toContain(token);
  });

  it("exits non-zero before starting the command when a secret has expired and cannot be refreshed", async () => {
    // An OAuth token past its expiry, written through the file store as a login would leave it.
    const now = Date.now();
    const expired = { value: `CANARY-${randomUUID()}`, provider: "github", expiresAt: now - 60_000, createdAt: now - 3_600_000, updatedAt: now - 3_600_000 };
    const expiredHome = tempHome("mcb-run-expired-");
    const store = new FileStore({ dir: expiredHome });
    await store.set("gh", expired);
    await store.close();
    const marker = join(expiredHome, "started");
    const r = await runCli(["run", "--env", "GH=secret:gh", "--", "sh", "-c", `touch ${marker}`], { home: expiredHome });
    expect(r.code).toBe(1);
    expect(existsSync(marker)).toBe(false);
    expect(r.stderr).toContain("GH: The secret 'gh' expired");
    expect(r.stderr).toContain("mcp-credentials-broker login github --name gh");
    expect(r.stderr).not.toContain(expired.value);
  });

  it("masks a multi-line value (a PEM key) that the command writes one line per write, and a value right after a backslash", async () => {
    const keyLines = Array.from({ length: 4 }, () => Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64"));
    const pem = `-----BEGIN PRIVATE KEY-----\n${keyLines.join("\n")}\n-----END PRIVATE KEY-----\n`;
    expect((await runCli(["secret", "set", "pem"], { home, input: pem })).code).toBe(0);
    expect((await runCli(["secret", "set", "t"], { home, input: token })).code).toBe(0);
    // One write(2) per line with a pause between, as a line-buffered logger does it: each line is a read of its own.
    const script = 'const fs = require("node:fs"); for (const l of process.env.KEY.split("\\n")) { fs.writeSync(1, l + "\\n"); Bun.sleepSync(20); } fs.writeSync(1, "path\\\\" + process.env.TOKEN + "\\n");';
    const r = await runCli(["run", "--env", "KEY=secret:pem", "--env", "TOKEN=secret:t", "--", BUN, "-e", script], { home });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("<redacted:KEY>");
    for (const line of keyLines) expect(r.stdout).not.toContain(line.slice(0, 16));
    expect(r.stdout).toEndWith(`path\\\\<redacted:TOKEN>\n`);
    expect(r.stdout).not.toContain(token.slice(0, 12));
  });

  it("masks every line of a PEM key that the command writes one line per write with pauses longer than the idle flush", async () => {
    const keyLines = Array.from({ length: 4 }, () => Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64"));
    const pem = `-----BEGIN PRIVATE KEY-----\n${keyLines.join("\n")}\n-----END PRIVATE KEY-----\n`;
    expect((await runCli(["secret", "set", "slow-pem"], { home, input: pem })).code).toBe(0);
    // 300 ms between lines, longer than run's idle flush (IDLE_FLUSH_MS = 200): the held first line is written before the rest comes.
    const script = 'const fs = require("node:fs"); for (const fd of [1, 2]) for (const l of process.env.KEY.split("\\n")) { fs.writeSync(fd, l + "\\n"); Bun.sleepSync(300); }';
    const r = await runCli(["run", "--env", "KEY=secret:slow-pem", "--", BUN, "-e", script], { home });
    expect(r.code).toBe(0);
    for (const out of [r.stdout, r.stderr]) {
      expect(out).toContain(`-----BEGIN PRIVATE KEY-----\n${"<redacted:KEY>\n".repeat(keyLines.length)}-----END PRIVATE KEY-----\n`);
      for (const line of keyLines) expect(out).not.toContain(line.slice(0, 16));
    }
  }, 20_000);

  it("refuses a secret holding a NUL byte before starting the command, naming the variable (exit 1, never 'Internal error')", async () => {
    const value = `nul\0${token}`;
    expect((await runCli(["secret", "set", "with-nul"], { home, input: value })).code).toBe(0);
    const r = await runCli(["run", "--env", "BLOB=secret:with-nul", "--", BUN, "-e", 'require("node:fs").writeFileSync(1, "started")'], { home });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: "" });
    expect(withoutFallbackWarning(r.stderr)).toBe(
      "error: Not starting the command: BLOB: the secret 'with-nul' contains a NUL byte, which an environment variable cannot hold. Give the command that value another way (in a file it reads, or on its stdin), or store it without NUL bytes (e.g. base64-encoded).\n",
    );
    expect(r.stderr).not.toContain(token);
  });

  it("withholds the broker's own credential variables from the command unless --env names them", async () => {
    const credentials = { GITHUB_CLIENT_SECRET: `gh-cs-${randomUUID()}`, OAUTH2_CLIENT_SECRET: `o2-${randomUUID()}`, CLIENT_SECRET: `cs-${randomUUID()}`, JWT_SECRET: `jwt-${randomUUID()}-0123456789abcdef`, MCB_STORE_KEY: `key-${randomUUID()}`, IDP_ID_TOKEN: `idt-${randomUUID()}` };
    const env = { ...credentials, GITHUB_CLIENT_ID: "public-client-id" };
    // A home of its own: MCB_STORE_KEY encrypts this store.
    const home = tempHome("mcb-run-withheld-");
    expect((await runCli(["secret", "set", "t"], { home, env, input: token })).code).toBe(0);
    const script = 'for (const k of Object.keys(process.env).sort()) if (/SECRET|TOKEN|KEY|CLIENT/.test(k)) console.log(k + "=" + process.env[k])';
    const r = await runCli(["run", "--no-masking", "--env", "TOKEN=secret:t", "--", BUN, "-e", script], { home, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`TOKEN=${token}`);
    expect(r.stdout).toContain("GITHUB_CLIENT_ID=public-client-id");
    for (const [k, v] of Object.entries(credentials)) {
      expect(r.stdout).not.toContain(`${k}=`);
      expect(r.stdout + r.stderr).not.toContain(v);
    }
    expect(r.stderr).toContain("not passing the broker's own credential variables CLIENT_SECRET, GITHUB_CLIENT_SECRET, IDP_ID_TOKEN, JWT_SECRET, MCB_STORE_KEY, OAUTH2_CLIENT_SECRET to the command; add --env NAME to hand one on.");
    // Handed on deliberately, by name only (the value never is in argv).
    const passed = await runCli(["run", "--no-masking", "--env", "TOKEN=secret:t", "--env", "GITHUB_CLIENT_SECRET", "--", BUN, "-e", script], { home, env });
    expect(passed.stdout).toContain(`GITHUB_CLIENT_SECRET=${credentials.GITHUB_CLIENT_SECRET}`);
    expect(passed.stdout).not.toContain("OAUTH2_CLIENT_SECRET=");
  });

  it("reads --env-file (secrets and plain values) and lets --env override it", async () => {
    const file = join(home, "server.env");
    writeFileSync(file, "# test\nTOKEN=secret:does-not-exist\nMODE=\"plain value\"\n");
    const r = await runCli(["run", "--env-file", file, "--env", "TOKEN=secret:t", "--", "sh", "-c", 'printf "%s|%s" "$MODE" "$TOKEN"'], { home });
    expect(r).toMatchObject({ code: 0, stdout: "plain value|<redacted:TOKEN>" });
  });

  it("warns on stderr that a value too short to mask is not masked", async () => {
    expect((await runCli(["secret", "set", "pin"], { home, input: "1234" })).code).toBe(0);
    const r = await runCli(["run", "--env", "PIN=secret:pin", "--", "sh", "-c", 'printf %s "$PIN"'], { home });
    expect(r).toMatchObject({ code: 0, stdout: "1234" });
    expect(r.stderr).toContain("PIN is shorter than 8 characters");
  });

  it("refuses a plain value in --env and a missing command as usage errors", async () => {
    // Not a CANARY- value: the argv ledger checks refuse those on any command line, and this one is on it on purpose.
    const typedByMistake = `plain-${randomUUID()}`;
    const plain = await runCli(["run", "--env", `TOKEN=${typedByMistake}`, "--", "true"], { home });
    expect(plain.code).toBe(2);
    expect(plain.stderr).not.toContain(typedByMistake);
    expect((await runCli(["run", "--env", "TOKEN=secret:t"], { home })).code).toBe(2);
  });

  it("documents run, audit and secret policy in --help with examples", async () => {
    for (const args of [["run", "--help"], ["audit", "--help"], ["secret", "policy", "--help"]]) {
      const r = await runCli(args, { home });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("EXAMPLES");
      expect(r.stdout).toContain(`mcp-credentials-broker ${args.slice(0, -1).join(" ")} `);
    }
    expect((await runCli(["--help"], { home })).stdout).toMatch(/run[\s\S]*audit/);
  });

  it("fails clearly when the command cannot be started", async () => {
    const r = await runCli(["run", "--env", "TOKEN=secret:t", "--", join(home, "no-such-server")], { home });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Cannot start");
    expect(r.stderr).toContain("not found");
  });
});
