// The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.16), CLIENT mode:
// every client scenario the suite lists, through `connect` and through `proxy` of the compiled
// binary (docs/conformance.md §The MCP conformance suite).
// The suite starts its mock MCP server (and authorization server), then runs our driver
// (test/conformance/*-driver.ts) with the server URL; the driver starts the binary and an SDK
// Client that uses it, signing in through a loopback-only redirect-following "browser".
// Runs go a few at a time; each test waits for its own. docs/conformance.md: one by hand.
//
// MCB_CONFORMANCE_ONLY=a,b (scenario names) and MCB_CONFORMANCE_MODES=connect|proxy narrow a run.
import { beforeAll, describe, expect, it } from "bun:test";
import { rmSync } from "node:fs";
import { browserHooksWork } from "../support/browser-hook.ts";
import { type ClientResult, type Mode, conformanceCanRun, explain, listScenarios, pool, runClientScenario } from "../conformance/suite.ts";
import { requireBinary } from "./harness.ts";

interface ExpectedFailure {
  reason: string;
  /** Returns what is wrong when the run failed for another reason than `reason`, else null. */
  because(r: ClientResult): string | null;
}

/**
 * Scenarios the broker fails on purpose. A run listed here must fail, for the reason given: if
 * it passes, the broker started accepting what it refuses for a reason — look before removing.
 */
const EXPECTED_FAILURES: Record<string, ExpectedFailure> = {
  "auth/2025-03-26-oauth-metadata-backcompat": {
    reason:
      "the mock serves issuer <origin>/oauth from the origin's /.well-known/oauth-authorization-server; RFC 8414 §3.3 forbids using metadata whose issuer differs from the URL it was fetched for (mix-up / impersonation), so the broker refuses before any authorization request",
    because(r) {
      const ok = (id: string) => r.checks.some((c) => c.id === id && c.status === "SUCCESS");
      if (!ok("authorization-server-metadata")) return "the broker never read the authorization server metadata";
      if (ok("authorization-request") || ok("token-request")) return "the broker used the metadata anyway (authorization or token request made)";
      return null;
    },
  },
};

const canRun = browserHooksWork && conformanceCanRun("MCP conformance suite (client scenarios)");
const only = process.env.MCB_CONFORMANCE_ONLY?.split(",").map((s) => s.trim()).filter(Boolean);
const modes = (process.env.MCB_CONFORMANCE_MODES?.split(",").map((s) => s.trim()) ?? ["connect", "proxy"]) as Mode[];
const all = canRun ? listScenarios("client") : [];
const scenarios = only ? all.filter((s) => only.includes(s)) : all;

/** Runs at once: each is the suite (Node), its mock servers, a driver (Bun) and the broker, on 2 cores. */
const CONCURRENCY = 3;
/** Scenarios that time the client (sse-retry: the reconnect must come 450-700 ms after the stream closed) run alone. */
const TIMED = new Set(["sse-retry"]);
const runs = new Map<string, Promise<ClientResult>>();

beforeAll(() => {
  if (!canRun) return;
  const binary = requireBinary();
  const limit = pool(CONCURRENCY);
  // Queued in test order: each test's run has started (or finished) by the time it waits.
  for (const mode of modes) {
    for (const s of scenarios) {
      const run = limit(() => runClientScenario(s, mode, binary), { exclusive: TIMED.has(s) });
      run.catch(() => {}); // handled: its test awaits it and reports the error
      runs.set(`${mode} ${s}`, run);
    }
  }
});

describe.if(canRun)("MCP conformance suite, client scenarios", () => {
  it("the suite lists its client scenarios, and every expected failure names one of them", () => {
    expect(all.length).toBeGreaterThanOrEqual(26);
    for (const name of Object.keys(EXPECTED_FAILURES)) expect(all).toContain(name);
  });

  for (const mode of modes) {
    describe(mode, () => {
      for (const scenario of scenarios) {
        it(scenario, async () => {
          const r = await runs.get(`${mode} ${scenario}`)!;
          const expected = EXPECTED_FAILURES[scenario];
          if (expected) {
            if (r.passed) throw new Error(`${mode} ${scenario} passes but is an expected failure: ${expected.reason}. Find out why before removing it from EXPECTED_FAILURES.`);
            const wrong = expected.because(r);
            if (wrong) throw new Error(`${mode} ${scenario} fails, but not for the expected reason (${wrong}).\n${explain(r)}`);
            rmSync(r.outDir, { recursive: true, force: true });
            return;
          }
          if (!r.passed) throw new Error(explain(r));
        }, 120_000);
      }
    });
  }
});
