// Starts test/fixtures/argv-sampler.ts and collects every argv it saw while running.
import { resolve } from "node:path";

const SAMPLER = resolve(import.meta.dir, "../fixtures/argv-sampler.ts");

export interface ArgvSampler {
  /** Stops sampling and returns each distinct argv seen. */
  stop(): Promise<string[][]>;
}

/** Begins sampling /proc/*\/cmdline; resolves once the sampler runs. */
export async function startArgvSampler(): Promise<ArgvSampler> {
  const p = Bun.spawn([process.execPath, SAMPLER], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = p.stdout.getReader();
  let text = "";
  while (!text.includes("sampling\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the argv sampler exited early");
    text += new TextDecoder().decode(value);
  }
  return {
    async stop() {
      p.stdin.end();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      await p.exited;
      return text
        .split("\n")
        .slice(1)
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string[]);
    },
  };
}
