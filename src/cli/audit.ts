// `audit`: shows the audit log (filtered by time and secret name) and verifies its hash chain.
import { parseSince, readAuditLog, verifyAuditLog, type AuditLine, type ChainVerdict } from "../files/audit-reader.ts";
import { readPendingLines } from "../files/audit-pending.ts";
import { orphanedPendingFiles } from "../files/audit-log.ts";
import { auditLogPath, readAuditKey } from "../runtime.ts";
import { command } from "./command.ts";
import { jsonArg, storeArg } from "./common.ts";
import { terminalText } from "./terminal-text.ts";

/**
 * One line for people: time, event, outcome, name, client, purpose and the details that
 * apply, tab-separated. Every field is escaped (terminalText): name, purpose, client name
 * and tags are an agent's words, and a newline or ESC in them must not forge a row.
 */
export function describeLine(l: AuditLine): string {
  const extra = [
    l.consent && `consent=${String(l.consent)}`,
    l.approver && `approver=${String(l.approver)}`,
    l.rememberFor !== undefined && `remembered=${String(l.rememberFor)}s`,
    l.env && `env=${String(l.env)}`,
    l.policy && `policy=${String(l.policy)}`,
    l.provider && `provider=${String(l.provider)}`,
    l.reference && `ref=${String(l.reference)}`,
    l.tokenId && `token=${String(l.tokenId)}`,
    l.fp && `fp=${String(l.fp)}`,
    l.recovered === true && "recovered",
  ].filter(Boolean);
  const outcome = l.outcome === "ok" || l.outcome === "intent" ? l.outcome : `error ${l.error ?? ""}`.trim();
  return [l.time, l.event, outcome, l.name ?? "-", l.client ?? "-", l.purpose ? JSON.stringify(l.purpose) : "-", ...extra].map((f) => terminalText(String(f))).join("\t");
}

export const auditCommand = command({
  examples: [
    "mcp-credentials-broker audit --since 1h",
    "mcp-credentials-broker audit --name github-token --json | jq '.[] | select(.outcome == \"error\")'",
    "mcp-credentials-broker audit --verify     # exit 1 and the first bad line when the log was altered; says what the key proves",
  ],
  meta: {
    name: "audit",
    description:
      "Show the audit log: who (MCP client, cli, run) got, resolved, injected, stored or deleted which secret, for what purpose, and the outcome — never values. Each line carries the hash of the one before and a MAC under a key kept in the store; --verify checks the chain across rotated files with that key and says what it proves.",
  },
  args: {
    since: { type: "string", description: "Only lines from this long ago (90s, 30m, 1h, 7d, 2w) or since an ISO time", valueHint: "1h" },
    name: { type: "string", description: "Only lines about this secret" },
    verify: { type: "boolean", description: "Check the chain (and its MACs, with the store's audit key); exit 1 naming the first altered, missing or unkeyed line" },
    ...jsonArg,
    ...storeArg,
  },
  async run({ args, config, out, note }) {
    const path = auditLogPath(config);
    // Lines a killed broker had only in its write-ahead file: on disk, not yet in the chain.
    const pending = orphanedPendingFiles(path).reduce((n, f) => n + safeCount(f), 0);
    if (pending > 0) {
      note(`note: ${pending} audit line(s) of stopped broker processes are not in the chain yet (${terminalText(path)}.pending.*); the next broker that writes the log adds them, marked "recovered".`);
    }
    if (args.verify) {
      const { key, why } = await readAuditKey(args.store, config);
      const v = verifyAuditLog(path, key);
      if (args.json) out(JSON.stringify({ ...v, pending, ...(why ? { keyUnavailable: why } : {}) }, null, 2));
      else {
        if (v.ok) out(v.head ? `audit log intact: ${v.lines} lines in ${v.files.map(terminalText).join(", ")}; head seq ${v.head.seq} sha256 ${terminalText(v.head.hash)}` : "audit log is empty");
        else out(`audit log altered: line ${v.bad.line} of ${terminalText(v.bad.file)}: ${terminalText(v.bad.reason)}`);
        if (v.ok && v.lines > 0) for (const l of whatItProves(v, why)) out(l);
      }
      return v.ok ? 0 : 1;
    }
    const since = args.since === undefined ? undefined : parseSince(args.since, Date.now());
    const lines = readAuditLog(path, { since, name: args.name });
    if (args.json) return out(JSON.stringify(lines, null, 2));
    if (lines.length === 0) return out(`No audit lines${args.since || args.name ? " match" : ` in ${terminalText(path)}`}.`);
    for (const l of lines) out(describeLine(l));
  },
});

function safeCount(file: string): number {
  try {
    return readPendingLines(file).length;
  } catch {
    return 0; // chained and removed meanwhile
  }
}

/** What a verdict proves and what it cannot, in words (the README's audit section says the same). */
function whatItProves(v: ChainVerdict, keyUnavailable: string | undefined): string[] {
  const k = v.keyed;
  const lines: string[] = [];
  if (k.proven > 0) lines.push(`proven: ${k.proven} line(s) carry a MAC under this store's audit key (kid ${k.kid}); rewriting or extending them needs that key.`);
  if (k.unchecked > 0) lines.push(`not checked: ${k.unchecked} line(s) carry a MAC, but the audit key could not be read (${terminalText(keyUnavailable ?? "no key")}); only their order and hashes were checked.`);
  if (k.unkeyed > 0) lines.push(`not proven: ${k.unkeyed} earlier line(s) have no MAC (written before the chain was keyed): hash-chained only, anyone who can write the file can rewrite them.`);
  lines.push("cannot be proven from the log alone: that no lines were cut off its end (compare the head with one noted earlier), or what a holder of the key wrote.");
  return lines;
}
