// `connect` in-process: flag parsing and the errors before any bridging (the bridge itself
// speaks MCP on the process's stdio: test/e2e/remote-connect.test.ts drives it through the binary).
import { describe } from "bun:test";
import { refusals } from "./harness.ts";

describe("connect: flags and errors", () => {
  refusals([
    [["connect"], 2, /Missing required positional argument: URL/],
    [["connect", "https://mcp.example.com/mcp", "--port", "0"], 2, /--port must be a TCP port number from 1 to 65535 \(got "0"\)/],
    [["connect", "https://mcp.example.com/mcp", "--client-secret", "s"], 2, /Unknown flag '--client-secret' for 'connect'/],
    [["connect", "https://mcp.example.com/mcp", "--no-device", "--bogus"], 2, /Unknown flag '--bogus'/],
    [["connect", "ftp://mcp.example.com/mcp"], 1, /Refusing the remote MCP server URL: the scheme "ftp:" is not allowed/],
    [["connect", "http://mcp.example.com/mcp"], 1, /http: is allowed only for loopback addresses/],
    [["connect", "https://mcp.example.com/mcp", "--signing-alg", "HS1"], 1, /SIGNING_ALG must be one of ES256, ES384, RS256, PS256, EdDSA/],
    [["connect", "https://mcp.example.com/mcp", "--client-credentials"], 1, /--client-credentials needs the client's id: set CLIENT_ID \(--client-id\)/],
  ]);
});
