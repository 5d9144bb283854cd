// auditedSession: a remote session's sign-in, machine grant and sign-out each write an intent
// and an outcome line (remote-login, remote-logout, the server's origin as target); concurrent
// machine grants share one pair of lines; everything else is the session's own, unchanged.
import { describe, expect, it } from "bun:test";
import { auditedSession } from "../../src/cli/audited-session.ts";
import type { RemoteSession } from "../../src/remote/session.ts";
import { memoryBroker } from "../core/fixtures.ts";

/** What the wrapper touches of a RemoteSession, with a private field like the real one's. */
class FakeSession {
  readonly cfg = { server: new URL("https://mcp.example.com/mcp") };
  readonly #token = "tok-CANARY-9f8e7d";
  grants = 0;
  async login() {
    return { value: this.#token };
  }
  async machineLogin() {
    this.grants++;
    await Bun.sleep(5);
    return { value: this.#token };
  }
  async logout() {
    return true;
  }
  async accessToken() {
    return this.#token;
  }
}

describe("auditedSession", () => {
  it("audits login, machine grants (one pair for concurrent ones) and logout; other calls pass through", async () => {
    const { broker, audit } = memoryBroker();
    const fake = new FakeSession();
    const session = auditedSession(fake as unknown as RemoteSession, broker);
    await session.login({} as never, {} as never);
    await Promise.all([session.machineLogin(), session.machineLogin()]);
    expect(await session.logout()).toBe(true);
    expect(await session.accessToken()).toBe("tok-CANARY-9f8e7d");
    expect(session.cfg.server.origin).toBe("https://mcp.example.com");
    await broker.close();
    expect(audit.entries.map((e) => [e.event, e.outcome, e.target, e.client])).toEqual([
      ["remote-login", "intent", "https://mcp.example.com", "cli"],
      ["remote-login", "ok", "https://mcp.example.com", "cli"],
      ["remote-login", "intent", "https://mcp.example.com", "cli"],
      ["remote-login", "ok", "https://mcp.example.com", "cli"],
      ["remote-logout", "intent", "https://mcp.example.com", "cli"],
      ["remote-logout", "ok", "https://mcp.example.com", "cli"],
    ]);
    expect(fake.grants).toBe(1);
    expect(JSON.stringify(audit.entries)).not.toContain("tok-CANARY");
  });
});
