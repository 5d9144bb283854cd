// The audit log: one JSON line per credential operation, appended to audit.jsonl. Never a value.
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export type AuditEvent = "get" | "resolve" | "store" | "delete" | "mint" | "revoke";

/** One audit line. Only names and ids: the type has no field that could hold a value. */
export interface AuditEntry {
  event: AuditEvent;
  name?: string;
  purpose?: string;
  client?: string;
  reference?: string;
  tokenId?: string;
  provider?: string;
  outcome: "ok" | "error";
  error?: string;
}

export interface AuditLog {
  record(entry: AuditEntry): void;
  close(): void;
}

/** Appends each entry synchronously (O_APPEND), so a line is on disk before the tool answers. */
export class FileAuditLog implements AuditLog {
  #fd: number | null = null;
  constructor(private readonly path: string, private readonly now: () => number) {}

  record(entry: AuditEntry): void {
    if (this.#fd === null) {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      this.#fd = openSync(this.path, "a", 0o600);
    }
    // One write per line: O_APPEND keeps lines from several processes whole.
    writeSync(this.#fd, `${JSON.stringify({ time: new Date(this.now()).toISOString(), ...entry })}\n`);
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}

/** Keeps entries in memory, for unit tests. (`--store memory` still audits to the data dir.) */
export class MemoryAuditLog implements AuditLog {
  readonly entries: AuditEntry[] = [];
  record(entry: AuditEntry): void {
    this.entries.push(entry);
  }
  close(): void {}
}
