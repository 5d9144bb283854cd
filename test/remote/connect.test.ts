// Why `connect` could not deliver a message, as the client's JSON-RPC error and stderr say it:
// the origin with an error code or HTTP status, never the server's response body.
import { describe, expect, it } from "bun:test";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { BrokerError } from "../../src/errors.ts";
import { NoTokenError } from "../../src/remote/authorized-fetch.ts";
import { failureReason } from "../../src/remote/connect.ts";

const origin = "https://mcp.example.com";

describe("failureReason", () => {
  it("an HTTP error names the status, not the body the server sent", () => {
    const why = failureReason(new StreamableHTTPError(500, "Error POSTing to endpoint (HTTP 500): CANARY-body-text"), origin);
    expect(why).toBe("The remote MCP server https://mcp.example.com answered HTTP 500.");
  });
  it("a connection failure names the code and the fix", () => {
    const why = failureReason(Object.assign(new Error("Unable to connect"), { code: "ECONNREFUSED" }), origin);
    expect(why).toStartWith("Could not reach https://mcp.example.com (ECONNREFUSED).");
  });
  it("no login, and the broker's own errors, keep their words", () => {
    expect(failureReason(new NoTokenError("x"), origin)).toBe("https://mcp.example.com asks for a sign-in and none could be completed; check the messages above and try again.");
    expect(failureReason(new BrokerError("OAUTH_TIMEOUT", "No sign-in callback arrived in time."), origin)).toBe("No sign-in callback arrived in time.");
  });
  it("anything else is said without its message", () => {
    expect(failureReason(new Error("CANARY secret-ish detail"), origin)).toBe("The remote MCP server https://mcp.example.com could not be reached.");
  });
});
