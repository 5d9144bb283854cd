// A child process for the store's fault tests (test/store/file-faults.test.ts,
// test/e2e/store-faults.test.ts): a FileStore writer to kill, starve or refuse. Usage:
//   bun fault-writer.ts big <dir> <bytes>    sets "small", prints "ready", waits for a line on
//                                            stdin, then sets "big" to <bytes> bytes (one write(2)
//                                            long enough for a SIGKILL to land inside it)
//   bun fault-writer.ts loop <dir> <prefix>  sets <prefix>-0, <prefix>-1, … with values of random
//                                            sizes (60 B to 1.5 MiB) until killed
//   bun fault-writer.ts set <dir> <name>     sets one name, then exits 0; a refusal is printed as
//                                            "refused <code>: <message>" on stderr, exit 1
//   bun fault-writer.ts mixed <dir> <prefix> store, audit and revocation writes, as a broker makes
//                                            them, in a random mix until killed: sets <prefix>-<i>
//                                            (printed as the name), records an urgent audit line
//                                            (printed "audit <name>") or revokes tok_<prefix>_<i>
//                                            (printed "revoke <jti>"), each once it resolved
// Every name is printed on stdout only once its set() resolved ("acknowledged"); its value is
// faultValue(name, size), so a reader can check it. MCB_STORE_KEY encrypts, as in the broker.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { AUDIT_CHAIN_KEY } from "../../src/core/audit.ts";
import { FileAuditLog } from "../../src/files/audit-log.ts";
import { loadOrCreateInternalItem } from "../../src/core/internal-item.ts";
import { FileRevocationList } from "../../src/files/revocation-list.ts";
import { BrokerError } from "../../src/errors.ts";
import { dataFiles } from "../../src/paths.ts";
import { FileStore } from "../../src/store/file.ts";
import { acquireLock } from "../../src/files/lock-file.ts";

/** The value stored under `name`: `size` bytes that start with the name, so any mix-up shows. */
export function faultValue(name: string, size: number): string {
  const head = `value-of-${name}:${size}:`;
  return head + "v".repeat(Math.max(0, size - head.length));
}

/** The size of a value from its text (see faultValue). */
export function faultSize(value: string): number {
  return Number(value.split(":")[1]);
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function record(value: string) {
  const now = Date.now();
  return { value, createdAt: now, updatedAt: now };
}

async function main(argv: string[]): Promise<void> {
  const [mode, dir, arg] = argv;
  if (!dir || !arg) throw new Error("usage: fault-writer.ts big|loop|set|mixed <dir> <arg>");
  const store = new FileStore({ dir, passphrase: process.env.MCB_STORE_KEY });
  if (mode === "big") {
    await store.set("small", record(faultValue("small", 100)));
    say("small");
    say("ready");
    for await (const _ of process.stdin) break;
    const value = faultValue("big", Number(arg));
    await store.set("big", record(value));
    say("big");
    return;
  }
  if (mode === "loop") {
    for (let i = 0; ; i++) {
      const name = `${arg}-${i}`;
      // Mostly small, sometimes large: a kill then often lands inside a write(2).
      // At least 64 bytes: a value shorter than its own head would not say its size truly.
      const size = Math.random() < 0.7 ? 60 + Math.floor(Math.random() * 2000) : 64 + Math.floor(Math.random() * 1.5 * 1024 * 1024);
      await store.set(name, record(faultValue(name, size)));
      say(name);
    }
  }
  if (mode === "mixed") {
    // The audit log as the broker builds it (src/runtime.ts): keyed with the store's chain key.
    const clock = { now: Date.now, sleep: (ms: number) => Bun.sleep(ms) };
    const withLock = async <T>(name: string, fn: () => Promise<T>) => {
      const release = await acquireLock(join(dir, `${name}.lock`));
      try {
        return await fn();
      } finally {
        release();
      }
    };
    const chainKey = () => loadOrCreateInternalItem({ store, clock, withLock }, AUDIT_CHAIN_KEY, async () => randomBytes(32).toString("base64url")).then((v) => Buffer.from(v, "base64url"));
    const audit = new FileAuditLog({ path: join(dir, dataFiles.audit), now: Date.now, chainKey });
    const revocations = new FileRevocationList(join(dir, dataFiles.revoked), Date.now);
    for (let i = 0; ; i++) {
      const name = `${arg}-${i}`;
      const r = Math.random();
      if (r < 0.5) {
        const size = Math.random() < 0.8 ? 60 + Math.floor(Math.random() * 2000) : 64 + Math.floor(Math.random() * 512 * 1024);
        await store.set(name, record(faultValue(name, size)));
        say(name);
      } else if (r < 0.85) {
        await audit.record({ event: "resolve", name, purpose: "fault test", client: arg, outcome: "ok" }, { urgent: true });
        say(`audit ${name}`);
      } else {
        const jti = `tok_${arg}_${i}`;
        await revocations.add(jti, Date.now() + 3_600_000);
        say(`revoke ${jti}`);
      }
    }
  }
  if (mode === "set") {
    try {
      await store.set(arg, record(faultValue(arg, 100)));
      say(arg);
    } catch (e) {
      if (!(e instanceof BrokerError)) throw e;
      process.stderr.write(`refused ${e.code}: ${e.message}\n`);
      process.exit(1);
    }
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((e) => {
    // A BrokerError from opening the store is a refusal too: say so plainly.
    if (e instanceof BrokerError) {
      process.stderr.write(`refused ${e.code}: ${e.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`fault-writer: ${(e as Error).stack ?? e}\n`);
    process.exit(2);
  });
}
