// The revocation list port: revoked token ids, kept until the token would have expired anyway
// (src/files/revocation-list.ts keeps them in the data dir, visible to every process).

/** A set of revoked `jti`s. Entries past their `exp` are dropped: the token is dead anyway. */
export interface RevocationList {
  /** Records a revocation; a file-backed list resolves once it is written, or rejects saying nothing was revoked. */
  add(jti: string, expiresAtMs: number): void | Promise<void>;
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
