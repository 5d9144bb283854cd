// The terminal's approval driver (`secret get`): a y/N question on stderr, answered on stdin.
import type { ApprovalDriver } from "../core/approval.ts";

/** The process's stdin and stderr, or the CLI's IO handles (src/cli/command.ts). */
export interface TerminalStreams {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

/**
 * Asks y/N on the terminal. Without a terminal on stdin and stderr (a script, or an agent's
 * shell tool) there is nobody to ask: `unavailable`. Anything but y/yes is a no; no answer
 * within `timeoutMs` is "timeout" (a no).
 */
export function terminalApprover(timeoutMs: number, io: TerminalStreams = { stdin: process.stdin, stderr: process.stderr }): ApprovalDriver {
  return {
    id: "terminal",
    kind: "client",
    unavailable: () => (io.stdin.isTTY && io.stderr.isTTY ? null : "no terminal to ask on (stdin and stderr must be a TTY)"),
    async ask(question) {
      io.stderr.write(`${question.lines.join(" ")} [y/N] `);
      const stdin = io.stdin;
      stdin.resume();
      let onData: ((buf: Buffer) => void) | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const line = await new Promise<string | null>((resolve) => {
          let got = "";
          onData = (buf: Buffer) => {
            got += buf.toString("utf8");
            if (got.includes("\n") || got.includes("\r")) resolve(got);
          };
          stdin.on("data", onData);
          stdin.once("end", () => resolve(got));
          timer = setTimeout(() => resolve(null), timeoutMs);
        });
        if (line === null) {
          io.stderr.write("\n(no answer in time: refused)\n");
          return { answer: "timeout" };
        }
        return { answer: /^\s*y(es)?\s*$/i.test(line) ? "accept" : "decline" };
      } finally {
        clearTimeout(timer);
        if (onData) stdin.off("data", onData);
        stdin.pause();
      }
    },
  };
}
