// Reads a secret from a TTY without echoing it (raw mode), or from piped stdin.
import { BrokerError } from "../errors.ts";
import type { InStream, Io } from "./command.ts";

/** Reads all of `stdin` as UTF-8. */
export async function readAll(stdin: InStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Returns the secret typed at a hidden prompt (TTY) or piped on stdin. One trailing
 * newline is dropped from piped input, so `echo value | … secret set name` stores "value".
 */
export async function readSecretValue(io: Io, label: string): Promise<string> {
  const stdin = io.stdin;
  if (!io.stdinIsTTY || !stdin.setRawMode) {
    const raw = await readAll(stdin);
    return raw.replace(/\r?\n$/, "");
  }
  io.stderr.write(`${label} (input hidden, Enter to finish): `);
  stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = "";
      const onData = (buf: Buffer) => {
        for (const ch of buf.toString("utf8")) {
          if (ch === "\r" || ch === "\n") {
            stdin.off("data", onData);
            io.stderr.write("\n");
            return resolve(value);
          }
          if (ch === "\u0003") {
            stdin.off("data", onData);
            io.stderr.write("\n");
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
