// docs/security.md §No value in argv, logs or errors: no secret value in argv, logs, stderr, the audit log, the
// data dir, an error message or a tool error. Plants marker values through store_secret and
// through `secret set` on stdin, drives every tool (failures included), then greps everything.
//
// Limitation: the argv ledger check (last test) sees only processes recorded so far in this
// `bun test` run. Bun runs test files one after another in one process, so files that run
// after this one are not covered here; each of tools/cli/lifecycle/bad-input also ends with
// the same ledger check, and every secret value in those suites is `CANARY-<uuid>`, so one
// pattern covers them all (names such as "CANARY-NAME" in other suites' argv do not match).
import { afterAll, describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { verifyAuditLog } from "../../src/files/audit-reader.ts";
import { ARGV_LEDGER, body, connectBroker, readOr, runCli, tempHome, type Connected } from "./harness.ts";

const CLIENT = "canary-client";

/** The forms in which a leaked marker would be recognisable. */
function encodings(marker: string): string[] {
  const b = Buffer.from(marker);
  return [marker, b.toString("base64"), b.toString("base64url"), b.toString("hex")];
}

/** Fails naming `where` if `text` holds any encoding of any marker. */
function expectClean(where: string, text: string, markers: string[]): void {
  for (const m of markers) for (const e of encodings(m)) if (text.includes(e)) throw new Error(`secret marker leaked into ${where}`);
}

/** Every regular file under `dir`, recursively, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((p) => statSync(join(dir, p)).isFile());
}

/** `pid` and all its descendants, found through the ppid field of /proc/<pid>/stat. */
function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readOr(`/proc/${entry}/stat`);
    // Fields after the parenthesised command name: state, ppid, …
    const after = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (after[1]) parents.set(Number(entry), Number(after[1]));
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  return tree;
}

interface Scenario {
  title: string;
  env: Record<string, string>;
  /** Whether secrets.jsonl may hold the plain value (no MCB_STORE_KEY). */
  storeIsPlain: boolean;
}

const scenarios: Scenario[] = [
  { title: "plain file store", env: { MCB_DEBUG: "1" }, storeIsPlain: true },
  { title: "encrypted file store (MCB_STORE_KEY)", env: { MCB_DEBUG: "1", MCB_STORE_KEY: `passphrase-${randomUUID()}` }, storeIsPlain: false },
];

const allMarkers: string[] = [];

for (const sc of scenarios) {
  describe(`canary: ${sc.title}`, () => {
    const home = tempHome("mcb-canary-");
    const viaMcp = `CANARY-${randomUUID()}`;
    const viaCli = `CANARY-${randomUUID()}`;
    const markers = [viaMcp, viaCli];
    allMarkers.push(...markers);
    /** Text that must be clean: every tool result but the two successful resolves, every CLI output but `secret get`'s stdout. */
    const outputs: [string, string][] = [];
    let broker: Connected;
    let ref1 = "";
    let ref2 = "";
    let tokenId = "";

    afterAll(async () => {
      await broker?.close();
    });

    const cli = async (args: string[], input?: string) => {
      const r = await runCli(args, { home, env: sc.env, input });
      outputs.push([`stderr of \`${args.join(" ")}\``, r.stderr]);
      return r;
    };
    const tool = async (name: string, args: Record<string, unknown>, opts: { mayHoldValue?: boolean } = {}) => {
      const r = await broker.client.callTool({ name, arguments: args });
      if (!opts.mayHoldValue) outputs.push([`result of ${name}`, JSON.stringify(r)]);
      return r;
    };
    const okTool = async (name: string, args: Record<string, unknown>) => {
      const r = await tool(name, args);
      expect(r.isError ?? false).toBe(false);
      return body(r);
    };
    const failTool = async (name: string, args: Record<string, unknown>) => {
      const r = await tool(name, args);
      expect(r.isError).toBe(true);
      const b = body(r);
      expect(b.success).toBe(false);
      expect(b.error.length).toBeGreaterThan(0);
      return b.error as string;
    };

    it("plants one marker with `secret set` (stdin) and one with store_secret", async () => {
      const set = await cli(["secret", "set", "cli-planted", "--tag", "kind=canary"], viaCli);
      expect(set.code).toBe(0);
      outputs.push(["stdout of `secret set`", set.stdout]);
      broker = await connectBroker({ home, env: sc.env, clientName: CLIENT });
      await okTool("store_secret", { name: "mcp-planted", value: viaMcp, tags: { kind: "canary" } });
    });

    it("drives every tool, failing calls included", async () => {
      expect((await okTool("list_secrets", {})).secrets.map((e: { name: string }) => e.name)).toEqual(["cli-planted", "mcp-planted"]);

      ref1 = (await okTool("get_secret", { name: "mcp-planted", purpose: "canary: resolve the MCP marker" })).reference.id;
      const r1 = await tool("resolve_secret", { reference_id: ref1 }, { mayHoldValue: true });
      expect(body(r1).value).toBe(viaMcp);
      expect(await failTool("resolve_secret", { reference_id: ref1 })).toMatch(/single-use|already used/);

      ref2 = (await okTool("get_secret", { name: "cli-planted", purpose: "canary: resolve the CLI marker" })).reference.id;
      const r2 = await tool("resolve_secret", { reference_id: ref2 }, { mayHoldValue: true });
      expect(body(r2).value).toBe(viaCli);

      await failTool("get_secret", { name: "mcp-plante", purpose: "canary: a typo" });
      await failTool("resolve_secret", { reference_id: "ref_unknown" });

      // Refused stores that carry a marker as their value: the refusal must not echo it.
      await failTool("store_secret", { name: "", value: viaMcp });
      await failTool("store_secret", { name: "mcb-internal:jwt-es256-key", value: viaMcp });
      await failTool("store_secret", { name: "line\nbreak", value: viaMcp });
      await failTool("store_secret", { name: "too-big", value: `${viaMcp}${"x".repeat(70_000)}` });
      await failTool("store_secret", { name: "bad-tags", value: viaMcp, tags: { n: 1 } });
      await failTool("store_secret", { name: "n".repeat(300), value: viaCli });

      const minted = (await okTool("mint_token", { provider: "github", scopes: ["repo"], resource: "https://api.example.com" })).token;
      tokenId = minted.tokenId;
      expect((await okTool("verify_token", { token: minted.token })).valid).toBe(true);
      await okTool("revoke_token", { token_id: tokenId });
      expect((await okTool("verify_token", { token: minted.token })).valid).toBe(false);
      await failTool("revoke_token", { token_id: "not-a-token-id" });
      await okTool("get_broker_stats", {});

      await okTool("delete_secret", { name: "mcp-planted" });
      await failTool("delete_secret", { name: "mcp-planted" });
      await failTool("get_secret", { name: "mcp-planted", purpose: "canary: after delete" });
      // Keep the MCP marker in the store, so secrets.jsonl has something to leak.
      await okTool("store_secret", { name: "mcp-kept", value: viaMcp });
    });

    it("keeps the markers out of the broker's command line, environment and descendants", () => {
      const pid = broker.pid();
      expect(pid).toBeGreaterThan(0);
      const tree = processTree(pid!);
      expect(tree[0]).toBe(pid!);
      for (const p of tree) {
        const cmdline = readOr(`/proc/${p}/cmdline`);
        if (p === pid) expect(cmdline).toContain("mcp-credentials-broker");
        expectClean(`/proc/${p}/cmdline`, cmdline, markers);
        expectClean(`/proc/${p}/environ`, readOr(`/proc/${p}/environ`), markers);
      }
    });

    it("runs the CLI read paths", async () => {
      for (const args of [["secret", "list"], ["secret", "list", "--json"], ["status", "--json"], ["token", "mint", "okta", "--scope", "a", "--json"]]) {
        const r = await cli(args);
        expect(r.code).toBe(0);
        outputs.push([`stdout of \`${args.join(" ")}\``, r.stdout]);
      }
      const got = await cli(["secret", "get", "cli-planted"]);
      expect(got.stdout).toBe(viaCli); // the one place a value is meant to appear
      const missing = await cli(["secret", "get", "mcp-planted"]);
      expect(missing.code).toBe(1);
    });

    it("closes the broker", async () => {
      await broker.close();
      outputs.push(["broker stderr", broker.stderr()]);
    });

    it("finds no marker in stderr, tool results, error messages or CLI output", () => {
      expect(outputs.length).toBeGreaterThan(30);
      for (const [where, text] of outputs) expectClean(where, text, markers);
    });

    it(`finds no marker in any file in MCB_HOME${sc.storeIsPlain ? " but secrets.jsonl" : ", secrets.jsonl included"}`, () => {
      const files = filesUnder(home);
      expect(files).toContain("audit.jsonl");
      expect(files).toContain("secrets.jsonl");
      for (const f of files) {
        const text = readFileSync(join(home, f), "latin1");
        if (f === "secrets.jsonl" && sc.storeIsPlain) {
          // Positive control: the grep does find a marker where one is stored in the clear.
          expect(text).toContain(viaMcp);
          expect(text).toContain(viaCli);
          continue;
        }
        expectClean(relative(home, join(home, f)), text, markers);
      }
      if (!sc.storeIsPlain) expect(JSON.parse(readFileSync(join(home, "secrets.jsonl"), "utf8").split("\n")[0]!).sealed.alg).toBe("A256GCM");
    });

    it("audits one hash-chained line per operation with time, event, name, purpose, client, reference id and value fingerprint", () => {
      const lines = readOr(join(home, "audit.jsonl")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const l of lines) {
        expect(typeof l.time).toBe("string");
        expect(new Date(l.time as string).toISOString()).toBe(l.time as string);
      }
      // The chain fields are checked by `audit --verify` (policy-audit.test.ts); here, that they are present.
      lines.forEach((l, i) => {
        expect(l.seq).toBe(i + 1);
        expect(l.prev).toMatch(/^[0-9a-f]{64}$/);
        expect({ kid: l.kid, mac: l.mac }).toEqual({ kid: expect.stringMatching(/^[0-9a-f]{16}$/), mac: expect.stringMatching(/^[0-9a-f]{64}$/) });
      });
      expect(verifyAuditLog(join(home, "audit.jsonl")).ok).toBe(true);
      // Every value stored (its intent line too) or handed out is identified by its HMAC fingerprint, nothing else.
      for (const l of lines) {
        const carriesValue = (l.outcome === "ok" && (l.event === "store" || l.event === "resolve")) || (l.outcome === "intent" && l.event === "store");
        expect(l.fp === undefined ? "none" : /^[0-9a-f]{32}$/.test(l.fp as string) ? "fp" : "bad").toBe(carriesValue ? "fp" : "none");
      }
      const strip = (l: Record<string, unknown>) => {
        const { time: _t, seq: _s, prev: _p, fp: _f, kid: _k, mac: _m, ...rest } = l;
        return rest;
      };
      const purpose1 = "canary: resolve the MCP marker";
      const purpose2 = "canary: resolve the CLI marker";
      // A change is preceded by its intent line, written before the change is made.
      expect(lines.filter((l) => l.client === CLIENT).map(strip)).toEqual([
        { event: "store", name: "mcp-planted", client: CLIENT, outcome: "intent" },
        { event: "store", name: "mcp-planted", client: CLIENT, outcome: "ok" },
        { event: "get", name: "mcp-planted", purpose: purpose1, client: CLIENT, reference: ref1, outcome: "ok" },
        { event: "resolve", name: "mcp-planted", purpose: purpose1, client: CLIENT, reference: ref1, outcome: "ok" },
        { event: "resolve", client: CLIENT, reference: ref1, outcome: "error", error: "REFERENCE_NOT_FOUND" },
        { event: "get", name: "cli-planted", purpose: purpose2, client: CLIENT, reference: ref2, outcome: "ok" },
        { event: "resolve", name: "cli-planted", purpose: purpose2, client: CLIENT, reference: ref2, outcome: "ok" },
        { event: "get", name: "mcp-plante", purpose: "canary: a typo", client: CLIENT, outcome: "error", error: "NOT_FOUND" },
        { event: "resolve", client: CLIENT, reference: "ref_unknown", outcome: "error", error: "REFERENCE_NOT_FOUND" },
        // Refused stores that reach the broker are audited; zod refuses the rest before any tool runs.
        { event: "store", name: "mcb-internal:jwt-es256-key", client: CLIENT, outcome: "error", error: "INVALID_INPUT" },
        { event: "store", name: "line\nbreak", client: CLIENT, outcome: "error", error: "INVALID_INPUT" },
        { event: "mint", provider: "github", client: CLIENT, tokenId, outcome: "ok" },
        { event: "revoke", client: CLIENT, outcome: "intent" },
        { event: "revoke", client: CLIENT, tokenId, outcome: "ok" },
        { event: "revoke", client: CLIENT, outcome: "intent" },
        { event: "revoke", client: CLIENT, outcome: "error", error: "NOT_FOUND" },
        { event: "delete", name: "mcp-planted", client: CLIENT, outcome: "intent" },
        { event: "delete", name: "mcp-planted", client: CLIENT, outcome: "ok" },
        { event: "delete", name: "mcp-planted", client: CLIENT, outcome: "error", error: "NOT_FOUND" },
        { event: "get", name: "mcp-planted", purpose: "canary: after delete", client: CLIENT, outcome: "error", error: "NOT_FOUND" },
        { event: "store", name: "mcp-kept", client: CLIENT, outcome: "intent" },
        { event: "store", name: "mcp-kept", client: CLIENT, outcome: "ok" },
      ]);
      const cliLines = lines.filter((l) => l.client === "cli").map(strip);
      expect(cliLines).toContainEqual({ event: "store", name: "cli-planted", client: "cli", outcome: "ok" });
      expect(cliLines).toContainEqual({ event: "resolve", name: "cli-planted", purpose: "cli secret get", client: "cli", outcome: "ok" });
      expect(cliLines).toContainEqual({ event: "resolve", name: "mcp-planted", purpose: "cli secret get", client: "cli", outcome: "error", error: "NOT_FOUND" });
      expect(lines.filter((l) => l.event === "mint" && l.client === "cli")).toHaveLength(1);
    });

    it("still reads the values back (the markers were really stored)", async () => {
      expect((await runCli(["secret", "get", "mcp-kept"], { home, env: sc.env })).stdout).toBe(viaMcp);
    });
  });
}

// Runs last in this file. See the limitation in the header comment.
it("finds no marker — nor any CANARY-<uuid> value — in any argv recorded in the ledger", () => {
  const ledger = readOr(ARGV_LEDGER);
  expect(ledger.length).toBeGreaterThan(0);
  expect(ledger).toContain("secret");
  expectClean("ARGV_LEDGER", ledger, allMarkers);
  expect(ledger).not.toMatch(/CANARY-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
});
