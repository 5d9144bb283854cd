// The terminal's y/N driver on fake TTY streams: y/yes approves, anything else refuses, silence times out.
import { describe, expect, it } from "bun:test";
import { PassThrough } from "node:stream";
import { terminalApprover } from "../../src/approval/terminal.ts";

function tty(isTTY = true) {
  const stdin = Object.assign(new PassThrough(), { isTTY }) as unknown as NodeJS.ReadStream & PassThrough;
  let written = "";
  const stderr = Object.assign(new PassThrough(), { isTTY }) as unknown as NodeJS.WriteStream;
  stderr.on("data", (c: Buffer) => (written += c.toString()));
  return { io: { stdin, stderr }, stdin, written: () => written };
}

const q = { name: "gh", lines: ["The secret 'gh' has policy 'confirm'.", "Print its value?"] };

describe("terminalApprover", () => {
  it.each([
    ["y\n", "accept"],
    ["YES\r", "accept"],
    ["n\n", "decline"],
    ["\n", "decline"],
    ["yes please\n", "decline"],
  ])("%j → %s", async (typed, answer) => {
    const t = tty();
    const asked = terminalApprover(5_000, t.io).ask(q);
    t.stdin.write(typed);
    expect(await asked).toEqual({ answer: answer as never });
    expect(t.written()).toBe("The secret 'gh' has policy 'confirm'. Print its value? [y/N] ");
  });

  it("no answer within the timeout is a timeout (a no)", async () => {
    const t = tty();
    expect(await terminalApprover(50, t.io).ask(q)).toEqual({ answer: "timeout" });
  });

  it("without a terminal on stdin and stderr there is nobody to ask", () => {
    expect(terminalApprover(1, tty(false).io).unavailable()).toBe("no terminal to ask on (stdin and stderr must be a TTY)");
    expect(terminalApprover(1, tty(true).io).unavailable()).toBeNull();
  });
});
