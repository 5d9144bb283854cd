// SHA256SUMS in sha256sum(1) format ("<hex>  <file>"), written and read back.
import { createHash } from "node:crypto";

/** Lower-case hex SHA-256 of `data`. */
export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** sha256sum's text mode: one "<hex>  <name>" line per file, sorted by name. */
export function formatSums(sums: Map<string, string>): string {
  return [...sums.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, hex]) => `${hex}  ${name}\n`)
    .join("");
}

/** Parses SHA256SUMS strictly: a malformed line is an error, never skipped. */
export function parseSums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const [i, line] of text.split("\n").entries()) {
    if (line === "") continue;
    const m = /^([0-9a-f]{64}) [ *](\S+)$/.exec(line);
    if (!m) throw new Error(`SHA256SUMS line ${i + 1} is not "<sha256>  <file>"`);
    sums.set(m[2]!, m[1]!);
  }
  return sums;
}

/** Stands in for a hash a dry run did not build; never valid in a published formula or manifest. */
export const PLACEHOLDER_SHA256 = "0".repeat(64);
