// Reproducible archives without system tools: ustar + gzip for Linux/macOS, zip for Windows
// and MCP Bundles. Same inputs and mtime → same bytes (fixed owner, mode and order; gzip header
// without a name or time), so the archive hashes in SHA256SUMS can be re-derived by anyone.
// The async variants write the same bytes, compressing on zlib's worker threads.
import { promisify } from "node:util";
import { deflateRaw, deflateRawSync, gzip, gzipSync } from "node:zlib";

const deflateRawAsync = promisify(deflateRaw);
const gzipAsync = promisify(gzip);
/** zlib level 9 everywhere: archives are written once and downloaded many times. */
const LEVEL = 9;

export interface ArchiveEntry {
  name: string;
  data: Uint8Array;
  /** Unix permission bits: 0o755 for the executable, 0o644 for documents. */
  mode: number;
}

const BLOCK = 512;

function octal(n: number, width: number): string {
  // ustar numeric fields: zero-padded octal, NUL-terminated.
  return `${n.toString(8).padStart(width - 1, "0")}\0`;
}

function tarHeader(e: ArchiveEntry, mtime: number): Uint8Array {
  const name = Buffer.from(e.name, "utf8");
  if (name.length > 100) throw new Error(`archive entry name too long: ${e.name}`);
  const h = Buffer.alloc(BLOCK);
  name.copy(h, 0);
  h.write(octal(e.mode, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii"); // uid 0
  h.write(octal(0, 8), 116, "ascii"); // gid 0
  h.write(octal(e.data.length, 12), 124, "ascii");
  h.write(octal(mtime, 12), 136, "ascii");
  h.write("        ", 148, "ascii"); // POSIX ustar: checksum computed with its own field as spaces
  h.write("0", 156, "ascii"); // regular file
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return h;
}

/** The uncompressed ustar stream of `entries`. */
function tarStream(entries: ArchiveEntry[], mtime: number): Buffer {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    parts.push(tarHeader(e, mtime), e.data);
    const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(2 * BLOCK)); // end-of-archive marker
  const size = parts.reduce((n, p) => n + p.length, 0);
  const record = 20 * BLOCK; // pad to whole 10 KiB records, as tar(1) writes them
  parts.push(new Uint8Array((record - (size % record)) % record));
  return Buffer.concat(parts);
}

/** A gzip-compressed ustar archive of `entries`, every entry owned by 0:0 with `mtime` (seconds).
 * node:zlib writes MTIME 0 and no file name into the gzip header. */
export function tarGz(entries: ArchiveEntry[], mtime: number): Uint8Array {
  return gzipSync(tarStream(entries, mtime), { level: LEVEL });
}

/** tarGz, compressed off the main thread. */
export async function tarGzAsync(entries: ArchiveEntry[], mtime: number): Promise<Uint8Array> {
  return gzipAsync(tarStream(entries, mtime), { level: LEVEL });
}

/** MS-DOS date and time fields (local-time fields, written here from UTC for determinism). */
function dosDateTime(seconds: number): { date: number; time: number } {
  const d = new Date(Math.max(seconds, 315532800) * 1000); // DOS dates start in 1980
  return {
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
  };
}

/** A deflated zip archive of `entries` (APPNOTE 6.3.x, no zip64: every entry < 4 GiB). */
export function zip(entries: ArchiveEntry[], mtime: number): Uint8Array {
  return zipOf(entries, entries.map((e) => deflateRawSync(e.data, { level: LEVEL })), mtime);
}

/** Raw-deflates bytes for zipAsync; one Deflater compresses each distinct Uint8Array once. */
export type Deflater = (data: Uint8Array) => Promise<Uint8Array>;

/**
 * A Deflater that remembers its results by the array's identity: zips that hold the same
 * binary (the Windows archive and the Windows bundle) compress it once, off the main thread.
 */
export function sharedDeflater(): Deflater {
  const done = new WeakMap<Uint8Array, Promise<Uint8Array>>();
  return (data) => {
    let body = done.get(data);
    if (!body) done.set(data, (body = deflateRawAsync(data, { level: LEVEL })));
    return body;
  };
}

/** zip, compressed off the main thread (through `deflate`, to share work between zips). */
export async function zipAsync(entries: ArchiveEntry[], mtime: number, deflate: Deflater = sharedDeflater()): Promise<Uint8Array> {
  return zipOf(entries, await Promise.all(entries.map((e) => deflate(e.data))), mtime);
}

/** The zip of `entries` whose deflated data are `bodies`, in the same order. */
function zipOf(entries: ArchiveEntry[], bodies: Uint8Array[], mtime: number): Uint8Array {
  const { date, time } = dosDateTime(mtime);
  const locals: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [i, e] of entries.entries()) {
    const name = Buffer.from(e.name, "utf8");
    const body = bodies[i]!;
    const crc = Bun.hash.crc32(e.data);
    // APPNOTE 4.3.7 / 4.3.12: both headers carry the same run of fields from "general purpose
    // flags" to "file name length"; the central one starts it 2 bytes later.
    const common = (h: Buffer, at: number) => {
      h.writeUInt16LE(0x0800, at); // bit 11: names are UTF-8
      h.writeUInt16LE(8, at + 2); // deflate
      h.writeUInt16LE(time, at + 4);
      h.writeUInt16LE(date, at + 6);
      h.writeUInt32LE(crc, at + 8);
      h.writeUInt32LE(body.length, at + 12);
      h.writeUInt32LE(e.data.length, at + 16);
      h.writeUInt16LE(name.length, at + 20);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    common(local, 6);
    locals.push(local, name, body);

    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE((3 << 8) | 20, 4); // made by Unix (3), so the external attributes carry the mode
    c.writeUInt16LE(20, 6);
    common(c, 8);
    c.writeUInt32LE(((0o100000 | e.mode) << 16) >>> 0, 38); // S_IFREG | mode, high 16 bits
    c.writeUInt32LE(offset, 42);
    central.push(c, name);
    offset += local.length + name.length + body.length;
  }
  const cdSize = central.reduce((n, p) => n + p.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...central, end]);
}
