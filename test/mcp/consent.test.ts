// The MCP client's approval driver: form elicitation when the client declares it; a request that
// times out is a timeout (a no), one that fails is a cancel.
import { describe, expect, it } from "bun:test";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { elicitationApprover } from "../../src/mcp/consent.ts";
import { createLogger } from "../../src/log.ts";

function fakeServer(caps: Record<string, unknown> | undefined, reply: () => Promise<{ action: "accept" | "decline" | "cancel" }>) {
  const asked: { message: string; timeout?: number }[] = [];
  const server = {
    getClientCapabilities: () => (caps ? { elicitation: caps } : {}),
    elicitInput: async (p: { message: string }, o: { timeout?: number }) => (asked.push({ message: p.message, timeout: o.timeout }), reply()),
  } as unknown as Server;
  return { server, asked };
}

const log = createLogger({ debug: false });
const q = { name: "gh", lines: ["one.", "two?"] };

describe("elicitationApprover", () => {
  it("asks with the question on one line, within its timeout, and returns the user's action", async () => {
    const { server, asked } = fakeServer({ form: {} }, async () => ({ action: "accept" }));
    const d = elicitationApprover(server, log, 1234);
    expect(d.unavailable()).toBeNull();
    expect(await d.ask(q)).toEqual({ answer: "accept" });
    expect(asked).toEqual([{ message: "one. two?", timeout: 1234 }]);
  });

  it("no answer in time → timeout; any other failure → cancel", async () => {
    expect(await elicitationApprover(fakeServer({}, async () => Promise.reject(new McpError(ErrorCode.RequestTimeout, "Request timed out"))).server, log).ask(q)).toEqual({ answer: "timeout" });
    expect(await elicitationApprover(fakeServer({}, async () => Promise.reject(new Error("closed"))).server, log).ask(q)).toEqual({ answer: "cancel" });
  });

  it("a client without form elicitation cannot ask (URL mode only, or none)", () => {
    expect(elicitationApprover(fakeServer(undefined, async () => ({ action: "accept" })).server, log).unavailable()).toBe("this MCP client does not support MCP form elicitation");
    expect(elicitationApprover(fakeServer({ url: {} }, async () => ({ action: "accept" })).server, log).unavailable()).not.toBeNull();
  });
});
