// Installs the recording fakes of `security`, `powershell` and `pwsh` (and of the approval
// dialogs' `osascript` and PowerShell) in a temp bin dir that goes first on PATH, and reads back
// what they recorded.
import { afterAll, afterEach } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { RecordedCall } from "../fixtures/fake-helpers/recorder.ts";

const FAKES = resolve(import.meta.dir, "../fixtures/fake-helpers");

export interface FakeHelpers {
  /** Absolute paths of the fakes (what the backends are given). */
  security: string;
  powershell: string;
  pwsh: string;
  /** macOS osascript running the approval dialog script. */
  osascript: string;
  /** PowerShell running the approval MessageBox script. */
  powershellDialog: string;
  /** The environment for the backend: the fakes' bin dir first on PATH, and where they keep state. */
  env: Record<string, string>;
  /** Every call so far, in order. */
  calls(): RecordedCall[];
  /** Forgets the calls recorded so far (items stay). */
  clearCalls(): void;
  /** Makes the fakes play a failure ("locked", "hang", "garbage", …), a dialog answer ("deny", "gave-up", …) or "normal". */
  setMode(mode: string): void;
  cleanup(): void;
}

export function installFakeHelpers(): FakeHelpers {
  const root = mkdtempSync(join(tmpdir(), "mcb-fakes-"));
  const bin = join(root, "bin");
  const state = join(root, "state");
  mkdirSync(bin);
  mkdirSync(state);
  const wrapper = (script: string) => `#!${process.execPath}\nawait import(${JSON.stringify(join(FAKES, script))});\n`;
  const files = { security: "fake-security.ts", powershell: "fake-powershell.ts", pwsh: "fake-powershell.ts", osascript: "fake-osascript.ts", "powershell-dialog": "fake-powershell-dialog.ts" };
  for (const [name, script] of Object.entries(files)) {
    writeFileSync(join(bin, name), wrapper(script));
    chmodSync(join(bin, name), 0o755);
  }
  const callsFile = join(state, "calls.jsonl");
  return {
    security: join(bin, "security"),
    powershell: join(bin, "powershell"),
    pwsh: join(bin, "pwsh"),
    osascript: join(bin, "osascript"),
    powershellDialog: join(bin, "powershell-dialog"),
    env: { PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, FAKE_HELPER_DIR: state },
    calls: () =>
      existsSync(callsFile)
        ? readFileSync(callsFile, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l) as RecordedCall)
        : [],
    clearCalls: () => rmSync(callsFile, { force: true }),
    setMode: (mode) => writeFileSync(join(state, "mode"), mode),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Installs the fakes for one test file: back to "normal" with no calls after each test, removed after all. */
export function useFakeHelpers(): FakeHelpers {
  const fakes = installFakeHelpers();
  afterEach(() => {
    fakes.setMode("normal");
    fakes.clearCalls();
  });
  afterAll(() => fakes.cleanup());
  return fakes;
}
