// Reads a secret from a TTY without echoing it (raw mode), or from piped stdin.
import { BrokerError } from "../errors.ts";
import { readStdin } from "./common.ts";

/**
 * Returns the secret typed at a hidden prompt (TTY) or piped on stdin. One trailing
 * newline is dropped from piped input, so `echo value | … secret set name` stores "value".
 */
export async function readSecretValue(label: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const raw = await readStdin();
    return raw.replace(/\r?\n$/, "");
  }
  process.stderr.write(`${label} (input hidden, Enter to finish): `);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = "";
      const onData = (buf: Buffer) => {
        for (const ch of buf.toString("utf8")) {
          if (ch === "\r" || ch === "\n") {
            stdin.off("data", onData);
            process.stderr.write("\n");
            return resolve(value);
          }
          if (ch === "\u0003") {
            stdin.off("data", onData);
            process.stderr.write("\n");
            return reject(new BrokerError("INVALID_INPUT", "Cancelled."));
          }
          if (ch === "\u007f" || ch === "\b") value = [...value].slice(0, -1).join("");
          else value += ch;
        }
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}
