// Resolve policies and the audit log through the compiled binary: `confirm` asks through a real SDK
// Client's elicitation handler, `deny` is refused to agents but injected by `run`, and `audit`
// shows, filters and verifies what happened.
import { describe, expect, it } from "bun:test";
import { ElicitRequestSchema, type ElicitRequest } from "@modelcontextprotocol/sdk/types.js";
import { createHash, randomUUID } from "node:crypto";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileAuditLog } from "../../src/files/audit-log.ts";
import { body, connectBroker, runCli, tempHome } from "./harness.ts";

type Action = "accept" | "decline" | "cancel";

/** A client whose user answers every elicitation with `action`; `null` = a client without elicitation support. */
async function clientAnswering(home: string, name: string, action: Action | null) {
  const asked: ElicitRequest["params"][] = [];
  const c = await connectBroker({
    home,
    clientName: name,
    clientOptions: action ? { capabilities: { elicitation: { form: {} } } } : undefined,
    setup: (client) => {
      if (action) client.setRequestHandler(ElicitRequestSchema, (req) => (asked.push(req.params), { action }));
    },
  });
  const resolve = async (secret: string, purpose: string) => {
    const ref = body(await c.client.callTool({ name: "get_secret", arguments: { name: secret, purpose } }));
    if (!ref.success) return ref;
    return body(await c.client.callTool({ name: "resolve_secret", arguments: { reference_id: ref.reference.id } }));
  };
  return { c, asked, resolve };
}

describe("policies through the binary", () => {
  const home = tempHome("mcb-policy-");
  const values = { confirmed: `CANARY-${randomUUID()}`, denied: `CANARY-${randomUUID()}`, open: `CANARY-${randomUUID()}` };
  const audit = () => readFileSync(join(home, "audit.jsonl"), "utf8");
  const auditJson = async (...args: string[]) => {
    const r = await runCli(["audit", "--json", ...args], { home });
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as Record<string, any>[];
  };

  it("sets policies and hosts with `secret set` / `secret policy`, and lists them", async () => {
    expect((await runCli(["secret", "set", "confirmed", "--policy", "confirm", "--host", "api.github.com", "--host", "uploads.github.com", "--tag", "a=1", "--tag", "b=2"], { home, input: values.confirmed })).code).toBe(0);
    expect((await runCli(["secret", "set", "denied"], { home, input: values.denied })).code).toBe(0);
    expect((await runCli(["secret", "set", "open"], { home, input: values.open })).code).toBe(0);
    const bad = await runCli(["secret", "policy", "open", "sometimes"], { home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("allow, confirm, deny");
    const list = JSON.parse((await runCli(["secret", "list", "--json"], { home })).stdout);
    expect(list.map((e: Record<string, unknown>) => [e.name, e.policy, e.hosts, e.tags])).toEqual([
      ["confirmed", "confirm", ["api.github.com", "uploads.github.com"], { a: "1", b: "2" }],
      ["denied", "allow", undefined, undefined],
      ["open", "allow", undefined, undefined],
    ]);
    expect((await runCli(["secret", "list"], { home })).stdout).toContain("confirmed\tconfirm\t");
  });

  it("confirm: a client whose user accepts gets the value, after being asked who wants what for what", async () => {
    const { c, asked, resolve } = await clientAnswering(home, "accepting-client", "accept");
    try {
      const listed = body(await c.client.callTool({ name: "list_secrets", arguments: {} })).secrets;
      expect(listed[0]).toMatchObject({ name: "confirmed", policy: "confirm", hosts: ["api.github.com", "uploads.github.com"] });
      expect(await resolve("confirmed", "create a release")).toEqual({ success: true, value: values.confirmed });
      expect(asked).toHaveLength(1);
      expect(asked[0]!.message).toBe(`The MCP client "accepting-client" wants the value of the secret 'confirmed'. The agent says it needs it for: "create a release". Allow this once?`);
    } finally {
      await c.close();
    }
  });

  it("confirm: declined, cancelled, or a client without elicitation → a clear refusal", async () => {
    for (const [name, action, expected] of [
      ["declining-client", "decline", /declined/],
      ["cancelling-client", "cancel", /cancelled/],
      ["plain-client", null, /does not support MCP form elicitation/],
    ] as const) {
      const { c, resolve } = await clientAnswering(home, name, action);
      try {
        const r = await resolve("confirmed", `try as ${name}`);
        expect(r.success).toBe(false);
        expect(r.error).toMatch(expected);
        expect(JSON.stringify(r)).not.toContain(values.confirmed);
      } finally {
        await c.close();
      }
    }
  });

  it("deny: resolve_secret refuses (even for a reference issued before the change) while `run` still injects it", async () => {
    const { c } = await clientAnswering(home, "deny-client", "accept");
    try {
      const ref = body(await c.client.callTool({ name: "get_secret", arguments: { name: "denied", purpose: "before deny" } })).reference.id;
      expect((await runCli(["secret", "policy", "denied", "deny"], { home })).code).toBe(0);
      const r = body(await c.client.callTool({ name: "resolve_secret", arguments: { reference_id: ref } }));
      expect(r.success).toBe(false);
      expect(r.error).toContain("policy 'deny'");
      expect(r.error).toContain("mcp-credentials-broker run");
      expect(body(await c.client.callTool({ name: "get_secret", arguments: { name: "denied", purpose: "after deny" } })).success).toBe(false);
    } finally {
      await c.close();
    }
    const confirmGet = await runCli(["secret", "get", "confirmed"], { home });
    expect(confirmGet.code).toBe(1);
    expect(confirmGet.stderr).toContain("no terminal to ask on");
    const got = await runCli(["secret", "get", "denied"], { home });
    expect(got.code).toBe(1);
    expect(got.stdout).toBe("");
    const injected = await runCli(["run", "--env", "D=secret:denied", "--", "sh", "-c", 'printf %s "$D" | sha256sum'], { home });
    expect(injected.code).toBe(0);
    expect(injected.stdout.split(" ")[0]).toBe(createHash("sha256").update(values.denied).digest("hex"));
  });

  it("audit --json records each of these with client name and purpose, never a value", async () => {
    const lines = await auditJson();
    const pick = (l: Record<string, any>) => [l.event, l.name, l.client, l.purpose, l.consent, l.outcome, l.error];
    expect(lines.filter((l) => l.event === "resolve" || l.event === "policy" || l.event === "inject").map(pick)).toEqual([
      ["resolve", "confirmed", "accepting-client", "create a release", "accept", "ok", undefined],
      ["resolve", "confirmed", "declining-client", "try as declining-client", "decline", "error", "CONSENT_DECLINED"],
      ["resolve", "confirmed", "cancelling-client", "try as cancelling-client", "cancel", "error", "CONSENT_DECLINED"],
      ["resolve", "confirmed", "plain-client", "try as plain-client", "unsupported", "error", "CONSENT_UNAVAILABLE"],
      ["policy", "denied", "cli", undefined, undefined, "intent", undefined],
      ["policy", "denied", "cli", undefined, undefined, "ok", undefined],
      ["resolve", "denied", "deny-client", "before deny", undefined, "error", "POLICY_DENIED"],
      ["resolve", "confirmed", "cli", "cli secret get", "unsupported", "error", "CONSENT_UNAVAILABLE"],
      ["resolve", "denied", "cli", "cli secret get", undefined, "error", "POLICY_DENIED"],
      ["inject", "denied", "run", "sh", undefined, "ok", undefined],
    ]);
    const raw = audit();
    for (const v of Object.values(values)) {
      expect(raw).not.toContain(v);
      expect(raw).not.toContain(Buffer.from(v).toString("base64"));
    }
  });

  it("audit --json --name shows only that secret; `audit` prints one line per entry", async () => {
    const denied = await auditJson("--name", "denied");
    expect(denied.length).toBeGreaterThan(3);
    expect(new Set(denied.map((l) => l.name))).toEqual(new Set(["denied"]));
    const human = await runCli(["audit", "--name", "confirmed"], { home });
    expect(human.stdout).toContain("\tresolve\terror CONSENT_DECLINED\tconfirmed\tdeclining-client\t\"try as declining-client\"\tconsent=decline");
  });

  it("audit --verify passes on the untouched log and names the line after an edit or a deletion", async () => {
    const path = join(home, "audit.jsonl");
    const ok = await runCli(["audit", "--verify"], { home });
    expect(ok.code).toBe(0);
    const n = readFileSync(path, "utf8").split("\n").length - 1;
    // What it proves (every line: a MAC under the store's key) and what it cannot.
    expect(ok.stdout).toMatch(
      new RegExp(
        `^audit log intact: ${n} lines in audit\\.jsonl; head seq ${n} sha256 [0-9a-f]{64}\\n` +
          `proven: ${n} line\\(s\\) carry a MAC under this store's audit key \\(kid [0-9a-f]{16}\\); rewriting or extending them needs that key\\.\\n` +
          "cannot be proven from the log alone: that no lines were cut off its end \\(compare the head with one noted earlier\\), or what a holder of the key wrote\\.\\n$",
      ),
    );
    const original = readFileSync(path, "utf8");
    const lines = original.split("\n").slice(0, -1);
    expect(original).not.toContain(JSON.parse(readFileSync(join(home, "secrets.jsonl"), "utf8").split("\n").find((l) => l.includes("audit-chain-key"))!).record.value);

    // Rewrite line 5 and recompute every hash after it, as someone without the key would: the MAC gives it away.
    const forged: string[] = [];
    lines.forEach((l, i) => {
      const j = JSON.parse(l);
      if (i === 4) j.client = "someone-else";
      if (i > 0) j.prev = createHash("sha256").update(forged[i - 1]!).digest("hex");
      forged.push(JSON.stringify(j));
    });
    writeFileSync(path, `${forged.join("\n")}\n`);
    const rewritten = await runCli(["audit", "--verify"], { home });
    expect({ code: rewritten.code, stdout: rewritten.stdout }).toEqual({ code: 1, stdout: "audit log altered: line 5 of audit.jsonl: its MAC does not match: the line was altered, or written by something that does not hold the audit key\n" });

    // Edit line 5: rewrite who asked.
    writeFileSync(path, `${lines.map((l, i) => (i === 4 ? l.replace(/"client":"[^"]*"/, '"client":"someone-else"') : l)).join("\n")}\n`);
    const edited = await runCli(["audit", "--verify"], { home });
    expect(edited.code).toBe(1);
    expect(edited.stdout).toContain("audit log altered: line 5 of audit.jsonl");
    const json = JSON.parse((await runCli(["audit", "--verify", "--json"], { home })).stdout);
    expect(json).toMatchObject({ ok: false, bad: { file: "audit.jsonl", line: 5 } });

    // Delete line 7 of the original.
    writeFileSync(path, `${lines.filter((_, i) => i !== 6).join("\n")}\n`);
    const deleted = await runCli(["audit", "--verify"], { home });
    expect(deleted.code).toBe(1);
    expect(deleted.stdout).toContain("audit log altered: line 7 of audit.jsonl: 1 line before this one was deleted");

    writeFileSync(path, original);
    expect((await runCli(["audit", "--verify"], { home })).code).toBe(0);
  });
});

describe("audit --since and rotation through the binary", () => {
  it("filters by time, and verifies a log rotated at MCB_AUDIT_MAX_BYTES", async () => {
    const home = tempHome("mcb-audit-");
    const path = join(home, "audit.jsonl");
    // Three lines from two hours ago, then the binary appends more now, rotating at 2 KiB.
    const old = new FileAuditLog({ path, now: () => Date.now() - 2 * 3_600_000 });
    for (let i = 0; i < 3; i++) await old.record({ event: "get", name: `old-${i}`, purpose: "earlier", client: "test", outcome: "ok" });
    const env = { MCB_AUDIT_MAX_BYTES: "2048" };
    for (let i = 0; i < 12; i++) expect((await runCli(["secret", "set", `new-${i}`], { home, env, input: `CANARY-${randomUUID()}` })).code).toBe(0);
    const recent = JSON.parse((await runCli(["audit", "--json", "--since", "1h"], { home })).stdout) as Record<string, any>[];
    // Each store: its intent line, then its outcome.
    expect(recent.map((l) => `${l.name}:${l.outcome}`)).toEqual(Array.from({ length: 12 }, (_, i) => [`new-${i}:intent`, `new-${i}:ok`]).flat());
    const all = JSON.parse((await runCli(["audit", "--json", "--since", "3h"], { home })).stdout) as Record<string, any>[];
    expect(all).toHaveLength(27);
    const verify = JSON.parse((await runCli(["audit", "--verify", "--json"], { home })).stdout);
    expect(verify.ok).toBe(true);
    expect(verify.lines).toBe(27);
    expect(verify.files.length).toBeGreaterThan(1);
    expect(verify.files.at(-1)).toBe("audit.jsonl");
    const badSince = await runCli(["audit", "--since", "yesterday"], { home });
    expect(badSince.code).toBe(2);
  });
});

describe("audit write-ahead through the binary", () => {
  it("a broker killed right after handing out a value: its resolve line reaches the chain through the next broker", async () => {
    const home = tempHome("mcb-audit-wal-");
    const path = join(home, "audit.jsonl");
    const value = `CANARY-${randomUUID()}`;
    expect((await runCli(["secret", "set", "wal-secret"], { home, input: value })).code).toBe(0);
    // Hold the chain's lock (as a live process would), so the broker can only write ahead.
    writeFileSync(`${path}.lock`, `${process.pid} e2e-holder\n`);
    const { c, resolve } = await clientAnswering(home, "killed-client", null);
    const got = await resolve("wal-secret", "crash test");
    expect(got).toMatchObject({ success: true, value });
    const pending = readdirSync(home).filter((n) => n.startsWith("audit.jsonl.pending."));
    expect(pending).toHaveLength(1);
    expect(readFileSync(join(home, pending[0]!), "utf8")).toContain('"event":"resolve"');
    process.kill(c.pid()!, "SIGKILL");
    await c.close().catch(() => {});
    rmSync(`${path}.lock`);
    // Until then `audit` says so, and --verify counts them.
    const before = await runCli(["audit", "--verify", "--json"], { home });
    expect(JSON.parse(before.stdout)).toMatchObject({ ok: true, pending: 2 }); // get_secret, resolve_secret
    expect(before.stderr).toContain("2 audit line(s) of stopped broker processes are not in the chain yet");
    // Any later broker that writes the log chains the orphaned lines first.
    expect((await runCli(["secret", "set", "after-crash"], { home, input: "x" })).code).toBe(0);
    const lines = JSON.parse((await runCli(["audit", "--json"], { home })).stdout) as Record<string, any>[];
    const resolved = lines.filter((l) => l.event === "resolve" && l.name === "wal-secret");
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ client: "killed-client", purpose: "crash test", outcome: "ok", recovered: true });
    expect(lines.at(-1)).toMatchObject({ event: "store", name: "after-crash" });
    expect(readdirSync(home).filter((n) => n.startsWith("audit.jsonl.pending."))).toEqual([]);
    const after = await runCli(["audit", "--verify", "--json"], { home });
    expect(JSON.parse(after.stdout)).toMatchObject({ ok: true, pending: 0 });
    expect(after.stderr).toBe("");
    expect((await runCli(["audit", "--name", "wal-secret"], { home })).stdout).toMatch(/\tresolve\tok\twal-secret\tkilled-client\t"crash test"\t.*recovered/);
    expect(readFileSync(path, "utf8")).not.toContain(value);
  });
});

describe("an agent cannot replace or delete a secret the user protected", () => {
  it("store_secret and delete_secret refuse a 'deny' or 'confirm' secret, `run` still injects the user's value, and the CLI can change it", async () => {
    const home = tempHome("mcb-protect-");
    const userValue = `CANARY-${randomUUID()}`;
    const agentValue = `agent-${randomUUID()}`;
    expect((await runCli(["secret", "set", "deploy-key", "--policy", "deny"], { home, input: userValue })).code).toBe(0);
    expect((await runCli(["secret", "set", "gh", "--policy", "confirm"], { home, input: userValue })).code).toBe(0);
    // An MCP client that calls itself "cli" is still an agent.
    const c = await connectBroker({ home, clientName: "cli" });
    try {
      for (const name of ["deploy-key", "gh"]) {
        const stored = body(await c.client.callTool({ name: "store_secret", arguments: { name, value: agentValue } }));
        expect(stored.success).toBe(false);
        expect(stored.error).toContain(`an agent cannot replace it. The user can, from a terminal: \`mcp-credentials-broker secret set ${name}\``);
        const deleted = body(await c.client.callTool({ name: "delete_secret", arguments: { name } }));
        expect(deleted.success).toBe(false);
        expect(deleted.error).toContain(`secret rm ${name}`);
      }
      // A new name is the agent's to use.
      expect(body(await c.client.callTool({ name: "store_secret", arguments: { name: "agent-own", value: agentValue } })).success).toBe(true);
    } finally {
      await c.close();
    }
    const injected = await runCli(["run", "--no-masking", "--env", "KEY=secret:deploy-key", "--", "sh", "-c", 'printf %s "$KEY" | sha256sum'], { home });
    expect(injected.stdout).toContain(createHash("sha256").update(userValue).digest("hex"));
    // The user changes and removes them from the CLI.
    expect((await runCli(["secret", "set", "deploy-key"], { home, input: `${userValue}-2` })).code).toBe(0);
    expect((await runCli(["secret", "rm", "gh"], { home })).code).toBe(0);
    const names = (JSON.parse((await runCli(["secret", "list", "--json"], { home })).stdout) as { name: string; policy: string }[]).map((s) => [s.name, s.policy]);
    expect(names).toEqual([
      ["agent-own", "allow"],
      ["deploy-key", "deny"],
    ]);
  });
});
