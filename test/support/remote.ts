// What the remote MCP suites share: the world (oidc-provider with DCR and resource
// indicators, the remote MCP fixture naming it, headless Chromium) and RemoteDeps for
// in-process sessions (memory store, real lock files, loopback-only resolver).
import { afterAll, beforeAll } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../../src/core/clock.ts";
import { createLogger } from "../../src/log.ts";
import type { RemoteDeps } from "../../src/remote/session.ts";
import { acquireLock } from "../../src/files/lock-file.ts";
import type { Store } from "../../src/core/store.ts";
import { startIdp, type Idp } from "../fixtures/idp.ts";
import { startRemoteMcp, type RemoteMcp } from "../fixtures/remote-mcp.ts";
import { launchChromium, type Chromium } from "./chromium.ts";

export interface RemoteWorld {
  idp: Idp;
  remote: RemoteMcp;
  chromium: Chromium;
  stop(): Promise<void>;
}

/** An authorization server for remote MCP tests: open DCR, JWT access tokens for any 127.0.0.1 resource. */
export function startRemoteIdp(): Promise<Idp> {
  return startIdp({ registration: true, resources: { prefix: "http://127.0.0.1:", scope: "mcp:tools" } });
}

export async function startRemoteWorld(): Promise<RemoteWorld> {
  const idp = await startRemoteIdp();
  const remote = await startRemoteMcp({ issuer: idp.issuer });
  const chromium = await launchChromium();
  return {
    idp,
    remote,
    chromium,
    async stop() {
      await chromium.close();
      await remote.stop();
      await idp.stop();
    },
  };
}

/** RemoteDeps for an in-process session; `openBrowser` stands for the user's browser. */
export function remoteTestDeps(store: Store, opts: { env?: Record<string, string>; openBrowser?: (url: string) => Promise<boolean> } = {}): RemoteDeps {
  const lockDir = mkdtempSync(join(tmpdir(), "mcb-remote-lock-"));
  return {
    store,
    clock: systemClock,
    log: createLogger({ debug: false, write: () => {} }),
    env: opts.env ?? {},
    platform: process.platform,
    fetch: (input, init) => fetch(input, init),
    withLock: async (name, fn, lockOpts) => {
      const release = await acquireLock(join(lockDir, `${name}.lock`), lockOpts);
      try {
        return await fn();
      } finally {
        release();
      }
    },
    canOpenBrowser: () => opts.openBrowser !== undefined,
    openBrowser: opts.openBrowser ?? (async () => false),
    // Loopback literals only: a name lookup here would be a test bug.
    resolve: async (name) => {
      throw new Error(`unexpected DNS lookup of ${name}`);
    },
  };
}

/** Starts the world before the file's tests (when `enabled`) and stops it after; the fields read the live world. */
export function useRemoteWorld(enabled: boolean): Omit<RemoteWorld, "stop"> {
  let world: RemoteWorld | undefined;
  beforeAll(async () => {
    if (enabled) world = await startRemoteWorld();
  }, 30_000);
  afterAll(() => world?.stop());
  const live = () => {
    if (!world) throw new Error("the remote world is not running");
    return world;
  };
  return {
    get idp() {
      return live().idp;
    },
    get remote() {
      return live().remote;
    },
    get chromium() {
      return live().chromium;
    },
  };
}
