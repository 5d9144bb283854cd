// Revoked token ids, kept until the token would have expired anyway, visible to every process.
import { closeSync, fstatSync, lstatSync, mkdirSync, readSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { openDataFile, readDataFile } from "../data-files.ts";

/** A set of revoked `jti`s. Entries past their `exp` are dropped: the token is dead anyway. */
export interface RevocationList {
  add(jti: string, expiresAtMs: number): void;
  has(jti: string): boolean;
}

export class MemoryRevocationList implements RevocationList {
  readonly #m = new Map<string, number>();
  constructor(private readonly now: () => number) {}
  add(jti: string, exp: number): void {
    this.#m.set(jti, exp);
  }
  has(jti: string): boolean {
    const exp = this.#m.get(jti);
    return exp !== undefined && exp > this.now();
  }
}

/** True when the file exists, is not empty, and its last byte is not a newline. */
function endsMidLine(path: string): boolean {
  let fd: number;
  try {
    fd = openDataFile(path, "r");
  } catch {
    return false;
  }
  try {
    const last = Buffer.alloc(1);
    const size = fstatSync(fd).size;
    return size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

/**
 * `revoked.jsonl` in the data dir: one `{jti, exp}` line per revocation, appended with
 * O_APPEND so concurrent writers never interleave. Holds ids only, never a token.
 */
export class FileRevocationList implements RevocationList {
  #cache: { stamp: string; m: Map<string, number> } | null = null;
  constructor(private readonly path: string, private readonly now: () => number) {}

  add(jti: string, exp: number): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const line = `${JSON.stringify({ jti, exp })}\n`;
    // After a torn last line (a writer crashed mid-append) start a fresh line, or this
    // entry would be glued to the torn one and skipped with it.
    const fd = openDataFile(this.path, "a"); // never through a link (data-files.ts)
    try {
      writeFileSync(fd, endsMidLine(this.path) ? `\n${line}` : line);
    } finally {
      closeSync(fd);
    }
  }

  has(jti: string): boolean {
    const exp = this.#read().get(jti);
    return exp !== undefined && exp > this.now();
  }

  #read(): Map<string, number> {
    let stamp = "";
    try {
      const st = lstatSync(this.path);
      stamp = `${st.ino}:${st.size}`; // append-only: a change always grows the file
    } catch {
      return new Map();
    }
    if (this.#cache?.stamp === stamp) return this.#cache.m;
    const m = new Map<string, number>();
    for (const line of readDataFile(this.path, "utf8").split("\n")) {
      if (!line) continue;
      try {
        const { jti, exp } = JSON.parse(line) as { jti: unknown; exp: unknown };
        if (typeof jti === "string" && typeof exp === "number") m.set(jti, Math.max(exp, m.get(jti) ?? 0));
      } catch {
        // A torn last line from a crashed writer: skip it, the rest is intact.
      }
    }
    this.#cache = { stamp, m };
    return m;
  }
}
