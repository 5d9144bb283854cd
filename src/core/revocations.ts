// Revoked token ids, kept until the token would have expired anyway, visible to every process.
import { appendFileSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";

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

/**
 * `revoked.jsonl` in the data dir: one `{jti, exp}` line per revocation, appended with
 * O_APPEND so concurrent writers never interleave. Holds ids only, never a token.
 */
export class FileRevocationList implements RevocationList {
  #cache: { stamp: string; m: Map<string, number> } | null = null;
  constructor(private readonly path: string, private readonly now: () => number) {}

  add(jti: string, exp: number): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    appendFileSync(this.path, `${JSON.stringify({ jti, exp })}\n`, { mode: 0o600 });
  }

  has(jti: string): boolean {
    const exp = this.#read().get(jti);
    return exp !== undefined && exp > this.now();
  }

  #read(): Map<string, number> {
    let stamp = "";
    try {
      const st = statSync(this.path, { bigint: true });
      stamp = `${st.ino}:${st.mtimeNs}:${st.size}`;
    } catch {
      return new Map();
    }
    if (this.#cache?.stamp === stamp) return this.#cache.m;
    const m = new Map<string, number>();
    for (const line of readFileSync(this.path, "utf8").split("\n")) {
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
