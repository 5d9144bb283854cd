// revoked.jsonl: the file-backed RevocationList (src/core/revocations.ts is the port).
import { closeSync, fstatSync, ftruncateSync, lstatSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { RevocationList } from "../core/revocations.ts";
import { BrokerError, fsFix } from "../errors.ts";
import { openDataFile, readDataFile } from "./data-files.ts";
import { acquireLock, tryAcquireLock } from "./lock-file.ts";
import { lastByte, writeWhole } from "./torn-files.ts";

/**
 * `revoked.jsonl` in the data dir: one `{jti, exp}` line per revocation. Holds ids only, never a
 * token. Writers take the lock file `revoked.jsonl.lock` (lock-file.ts), so each line starts on a
 * fresh one and a write that fails part-way (a full disk) is cut back whole: a revocation is
 * either recorded or refused with an error, and no earlier one is ever glued to a torn line.
 */
export class FileRevocationList implements RevocationList {
  #cache: { stamp: string; m: Map<string, number> } | null = null;
  constructor(private readonly path: string, private readonly now: () => number) {}

  /** Records a revocation; resolves once its line is written (RevocationList.add). */
  async add(jti: string, exp: number): Promise<void> {
    const line = Buffer.from(`${JSON.stringify({ jti, exp })}\n`);
    let release: () => void;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      release = tryAcquireLock(`${this.path}.lock`) ?? (await acquireLock(`${this.path}.lock`));
    } catch (e) {
      throw this.#refused(e);
    }
    try {
      const fd = openDataFile(this.path, "a+"); // never through a link (data-files.ts)
      try {
        const size = fstatSync(fd).size;
        // A line left torn by a version without this lock gets its newline first: ours must
        // start on a fresh line, or it would be read as part of the torn one and skipped.
        const bytes = size > 0 && lastByte(fd, size) !== 0x0a ? Buffer.concat([Buffer.from("\n"), line]) : line;
        writeWhole(fd, bytes, (e) => {
          try { ftruncateSync(fd, size); } catch { /* a torn tail is skipped by readers and ended by the next writer */ }
          return e as Error;
        });
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      throw this.#refused(e);
    } finally {
      release();
    }
  }

  #refused(e: unknown): BrokerError {
    const cause = e instanceof BrokerError && e.cause ? e.cause : e;
    const code = (cause as NodeJS.ErrnoException).code;
    return new BrokerError(
      code === "EROFS" ? "STORE_READ_ONLY" : "IO_ERROR",
      `Cannot record the revocation in ${this.path}: ${code ?? "error"} (${fsFix(code)}). Nothing was revoked: the token still verifies until it expires. Fix that, then revoke it again.`,
      { cause: e },
    );
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
