import { describe, expect, it } from "bun:test";
import { BrokerError, describeError } from "../src/errors.ts";
import { createLogger } from "../src/log.ts";

describe("logger", () => {
  it("logs an unexpected error by kind only, never its message", () => {
    const lines: string[] = [];
    const log = createLogger({ debug: false, write: (l) => lines.push(l) });
    log.error("tool failed", new Error("value=SECRET-123"));
    log.debug("hidden");
    expect(lines).toEqual(["mcp-credentials-broker: error: tool failed (Error)"]);
  });

  it("writes debug lines only when enabled", () => {
    const lines: string[] = [];
    createLogger({ debug: true, write: (l) => lines.push(l) }).debug("x");
    expect(lines).toEqual(["mcp-credentials-broker: debug: x"]);
  });
});

describe("describeError", () => {
  it("passes a BrokerError's message through and hides foreign messages", () => {
    expect(describeError(new BrokerError("NOT_FOUND", "No secret named 'a'."))).toBe("No secret named 'a'.");
    const hidden = describeError(new Error("token=SECRET-123"));
    expect(hidden).not.toContain("SECRET-123");
    expect(hidden).toContain("Internal error");
  });
});
