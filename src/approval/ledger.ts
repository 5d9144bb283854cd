// The ledger of remembered approvals: one small file per approval in <data dir>/approvals/, so
// `secret approvals` lists them and `--clear` or `secret policy` revokes them from any process.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { uptime } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../files/atomic-write.ts";
import type { ApprovalLedger, ApproverId } from "../core/approval.ts";
import { isProcessAlive } from "../files/lock-file.ts";

/** The directory in the data dir. */
export const APPROVALS_DIR = "approvals";

const EntrySchema = z.object({
  name: z.string(),
  client: z.string(),
  approver: z.string(),
  /** The serving broker process that holds the approval (in its memory). */
  pid: z.number().int(),
  /** The boot it was given in (bootId): an entry from an earlier boot is void. */
  boot: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
});

/** A remembered approval as listed: who may use which secret until when, held by which process. */
export type LedgerEntry = z.infer<typeof EntrySchema> & { id: string };

const ID = /^[0-9a-f]{24}$/;

/**
 * An id for this boot of the machine: Linux's random boot id, elsewhere the boot time to the
 * minute (a reboot within the same minute as the last boot would reuse it; entries also
 * expire by time, and only a serving process's memory makes one count).
 */
export function bootId(platform: string, read: (path: string) => string = (p) => readFileSync(p, "utf8"), now = Date.now()): string {
  if (platform === "linux") {
    try {
      return read("/proc/sys/kernel/random/boot_id").trim();
    } catch {
      /* no procfs: fall back to the boot time */
    }
  }
  return `boot-${Math.round((now - uptime() * 1000) / 60_000)}`;
}

export interface FileLedgerOptions {
  /** The data dir; entries live in its `approvals/` (0700, files 0600). */
  dataDir: string;
  pid: number;
  boot: string;
  now: () => number;
  isAlive?: (pid: number) => boolean;
}

/**
 * Remembered approvals on disk. Written by the serving process that holds each approval,
 * removed by anyone revoking it; an entry is only a record of an approval (the serving
 * process's memory is what makes it count), so a file written by someone else approves
 * nothing. Entries of processes that are gone, of an earlier boot, or expired are dropped
 * when listed.
 */
export class FileApprovalLedger implements ApprovalLedger {
  readonly #dir: string;

  constructor(private readonly opts: FileLedgerOptions) {
    this.#dir = join(opts.dataDir, APPROVALS_DIR);
  }

  add(entry: { name: string; client: string; approver: ApproverId; createdAt: number; expiresAt: number }): string | null {
    const id = randomBytes(12).toString("hex");
    try {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      writeFileAtomic(this.#path(id), JSON.stringify({ ...entry, pid: this.opts.pid, boot: this.opts.boot }), 0o600);
      return id;
    } catch {
      // A read-only data dir: the approval counts once and is not remembered.
      return null;
    }
  }

  has(id: string): boolean {
    return ID.test(id) && existsSync(this.#path(id));
  }

  clear(name?: string): number {
    let cleared = 0;
    for (const { id, entry } of this.#read()) {
      if (name !== undefined && entry?.name !== name) continue;
      if (this.#remove(id) && entry && this.#inForce(entry)) cleared++;
    }
    return cleared;
  }

  /** The approvals in force, soonest to expire first; entries no longer in force are removed. */
  list(): LedgerEntry[] {
    const live: LedgerEntry[] = [];
    for (const { id, entry } of this.#read()) {
      if (entry && this.#inForce(entry)) live.push({ id, ...entry });
      else this.#remove(id);
    }
    return live.sort((a, b) => a.expiresAt - b.expiresAt);
  }

  #inForce(e: z.infer<typeof EntrySchema>): boolean {
    return e.boot === this.opts.boot && e.expiresAt > this.opts.now() && (this.opts.isAlive ?? isProcessAlive)(e.pid);
  }

  #read(): { id: string; entry: z.infer<typeof EntrySchema> | null }[] {
    let names: string[];
    try {
      names = readdirSync(this.#dir);
    } catch {
      return [];
    }
    return names.flatMap((n): { id: string; entry: z.infer<typeof EntrySchema> | null }[] => {
      const id = n.endsWith(".json") ? n.slice(0, -5) : "";
      if (!ID.test(id)) return [];
      try {
        return [{ id, entry: EntrySchema.parse(JSON.parse(readFileSync(this.#path(id), "utf8"))) }];
      } catch {
        return [{ id, entry: null }];
      }
    });
  }

  #remove(id: string): boolean {
    try {
      unlinkSync(this.#path(id));
      return true;
    } catch {
      return false;
    }
  }

  #path(id: string): string {
    return join(this.#dir, `${id}.json`);
  }
}
