// Asserting on typed failures: the BrokerError code and message a promise rejects with.
import { expect } from "bun:test";
import { BrokerError } from "../../src/errors.ts";

/** The BrokerError code and message `p` rejects with; fails the test when it resolves or throws something else. */
export async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BrokerError);
    return { code: (e as BrokerError).code, message: (e as BrokerError).message };
  }
  throw new Error("expected a BrokerError, but the call succeeded");
}
