// A real X server for dialog tests: Xvfb on a free display, driven the way a person would —
// keys by xdotool, a window closed through its close button's protocol (WM_DELETE_WINDOW),
// screenshots by ImageMagick `import`, text read back by OCR (tesseract) and the clipboard.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ensureCommands } from "./requirements.ts";

/** What the dialog suites need, and the Debian packages that bring it. */
export const DISPLAY_TOOLS = { commands: ["Xvfb", "zenity", "xdotool", "import", "tesseract", "xclip"], packages: ["xvfb", "zenity", "xdotool", "imagemagick", "tesseract-ocr", "xclip"] };

/** True when the dialog suites can run (installing the packages when allowed; see ensureCommands). */
export function displaySuiteCanRun(suite: string, extra: { commands: string[]; packages: string[] } = { commands: [], packages: [] }): boolean {
  return ensureCommands(suite, [...DISPLAY_TOOLS.commands, ...extra.commands], [...DISPLAY_TOOLS.packages, ...extra.packages]);
}

export interface VirtualDisplay {
  /** ":N" */
  display: string;
  /** The environment a dialog program needs to draw here. */
  env: Record<string, string>;
  /** Runs xdotool on this display; its stdout, trimmed. */
  xdotool(...args: string[]): Promise<string>;
  /** The id of the first window whose name matches `name`, once one is mapped (or throws after `timeoutMs`). */
  waitForWindow(name: string, timeoutMs?: number): Promise<string>;
  /** The ids of the windows whose name matches now. */
  windows(name: string): Promise<string[]>;
  /** Resolves once no window matches `name` (or throws after `timeoutMs`). */
  waitForNoWindow(name: string, timeoutMs?: number): Promise<void>;
  /** Presses keys with the window focused. */
  keys(window: string, ...keys: string[]): Promise<void>;
  /** Asks the window to close as a window manager's close button does (ICCCM §4.2.8.1 WM_DELETE_WINDOW). */
  requestClose(window: string): Promise<void>;
  /** Writes a PNG of the whole screen. */
  screenshot(path: string): Promise<void>;
  /** The text OCR reads in the window's area of a screenshot (cropped, enlarged 3×, grey). */
  ocrWindow(window: string, screenshotPath: string): Promise<string>;
  /** Selects all of the window's text, copies it, and returns the clipboard (what the window holds as text). */
  copyText(window: string): Promise<string>;
  /** The argv of the process that owns the window (_NET_WM_PID), from /proc. */
  ownerArgv(window: string): Promise<string[]>;
  /** The environment variables of the process that owns the window, from /proc. */
  ownerEnv(window: string): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

async function run(argv: string[], env: Record<string, string>, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn(argv, { env, stdin: input === undefined ? "ignore" : Buffer.from(input), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

/** Starts Xvfb on a display it picks itself (-displayfd: it writes the number once it listens). */
export async function startXvfb(): Promise<VirtualDisplay> {
  const xvfb = Bun.spawn(["Xvfb", "-displayfd", "1", "-screen", "0", "1024x768x24", "-nolisten", "tcp", "-noreset"], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const reader = xvfb.stdout.getReader();
  let got = "";
  const deadline = Date.now() + 10_000;
  while (!got.includes("\n")) {
    const chunk = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => null)]);
    if (!chunk || chunk.done) {
      xvfb.kill();
      throw new Error(`Xvfb did not start: ${await new Response(xvfb.stderr).text()}`);
    }
    got += new TextDecoder().decode(chunk.value);
  }
  reader.releaseLock();
  const display = `:${got.trim()}`;
  const env: Record<string, string> = { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", DISPLAY: display, LANG: "C.UTF-8", NO_AT_BRIDGE: "1" };
  const xdotool = async (...args: string[]) => {
    const r = await run(["xdotool", ...args], env);
    if (r.code !== 0 && !(args[0] === "search" && r.code === 1)) throw new Error(`xdotool ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
    return r.stdout.trim();
  };
  const windows = async (name: string) => (await xdotool("search", "--onlyvisible", "--name", name)).split("\n").filter(Boolean);
  const vd: VirtualDisplay = {
    display,
    env,
    xdotool,
    windows,
    async waitForWindow(name, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const ids = await windows(name);
        if (ids.length) {
          // Mapped is not drawn yet: give the toolkit a moment to paint and take focus.
          await Bun.sleep(300);
          return ids[0]!;
        }
        if (Date.now() > until) throw new Error(`no window named ${name} within ${timeoutMs} ms`);
        await Bun.sleep(50);
      }
    },
    async waitForNoWindow(name, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while ((await windows(name)).length) {
        if (Date.now() > until) throw new Error(`window ${name} still open after ${timeoutMs} ms`);
        await Bun.sleep(50);
      }
    },
    async keys(window, ...keys) {
      // XTEST key presses to the focused window: `key --window` would send synthetic events, which toolkits may ignore.
      await xdotool("windowfocus", "--sync", window);
      await xdotool("key", "--clearmodifiers", ...keys);
    },
    async requestClose(window) {
      sendDeleteWindow(display, BigInt(window));
    },
    async screenshot(path) {
      const r = await run(["import", "-window", "root", path], env);
      if (r.code !== 0) throw new Error(`import failed: ${r.stderr}`);
    },
    async ocrWindow(window, screenshotPath) {
      const geo = Object.fromEntries((await xdotool("getwindowgeometry", "--shell", window)).split("\n").map((l) => l.split("=") as [string, string]));
      const crop = screenshotPath.replace(/\.png$/, "-window.png");
      const c = await run(["convert", screenshotPath, "-crop", `${geo.WIDTH}x${geo.HEIGHT}+${geo.X}+${geo.Y}`, "+repage", "-bordercolor", "white", "-border", "24", "-resize", "300%", "-colorspace", "Gray", crop], env);
      if (c.code !== 0) throw new Error(`convert failed: ${c.stderr}`);
      const r = await run(["tesseract", crop, "-", "--psm", "6"], env);
      if (r.code !== 0) throw new Error(`tesseract failed: ${r.stderr}`);
      return r.stdout;
    },
    async copyText(window) {
      // A sentinel first, so a copy that did not happen cannot pass for one (xclip -i serves it until replaced).
      const sentinel = `mcb-sentinel-${Math.random()}`;
      // xclip -i forks a child that serves the selection: its output is not waited for.
      await Bun.spawn(["xclip", "-i", "-selection", "clipboard"], { env, stdin: Buffer.from(sentinel), stdout: "ignore", stderr: "ignore" }).exited;
      const until = Date.now() + 5_000;
      for (;;) {
        await xdotool("windowfocus", "--sync", window);
        await xdotool("key", "--clearmodifiers", "ctrl+a", "ctrl+c");
        await Bun.sleep(150);
        const r = await run(["xclip", "-o", "-selection", "clipboard"], env);
        if (r.code === 0 && r.stdout !== sentinel) return r.stdout;
        if (Date.now() > until) throw new Error(`the window's text could not be copied (${r.stderr.trim()})`);
      }
    },
    async ownerArgv(window) {
      const pid = await xdotool("getwindowpid", window);
      return readFileSync(join("/proc", pid, "cmdline"), "utf8").split("\0").slice(0, -1);
    },
    async ownerEnv(window) {
      const pid = await xdotool("getwindowpid", window);
      const pairs = readFileSync(join("/proc", pid, "environ"), "utf8").split("\0").filter(Boolean);
      return Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]));
    },
    async stop() {
      xvfb.kill();
      await xvfb.exited;
    },
  };
  return vd;
}

/**
 * Sends a ClientMessage WM_PROTOCOLS/WM_DELETE_WINDOW to `window`, as a window manager does
 * when its close button is pressed (there is no window manager on Xvfb, and xdotool's
 * `windowclose` destroys the window instead). Xlib through bun:ffi; XClientMessageEvent
 * layout on LP64: type @0, serial @8, send_event @16, display @24, window @32,
 * message_type @40, format @48, data.l[0] @56, data.l[1] (time) @64; XEvent is 192 bytes.
 */
function sendDeleteWindow(display: string, window: bigint): void {
  const x = dlopen("libX11.so.6", {
    XOpenDisplay: { args: [FFIType.cstring], returns: FFIType.ptr },
    XInternAtom: { args: [FFIType.ptr, FFIType.cstring, FFIType.i32], returns: FFIType.u64 },
    XSendEvent: { args: [FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.i64, FFIType.ptr], returns: FFIType.i32 },
    XFlush: { args: [FFIType.ptr], returns: FFIType.i32 },
    XCloseDisplay: { args: [FFIType.ptr], returns: FFIType.i32 },
  });
  try {
    const d = x.symbols.XOpenDisplay(Buffer.from(`${display}\0`));
    if (!d) throw new Error(`cannot open display ${display}`);
    const protocols = BigInt(x.symbols.XInternAtom(d, Buffer.from("WM_PROTOCOLS\0"), 0));
    const deleteWindow = BigInt(x.symbols.XInternAtom(d, Buffer.from("WM_DELETE_WINDOW\0"), 0));
    const ev = new DataView(new ArrayBuffer(192));
    ev.setInt32(0, 33, true); // ClientMessage
    ev.setBigUint64(32, window, true);
    ev.setBigUint64(40, protocols, true);
    ev.setInt32(48, 32, true);
    ev.setBigUint64(56, deleteWindow, true);
    x.symbols.XSendEvent(d, window, 0, 0n, ptr(ev.buffer));
    x.symbols.XFlush(d);
    x.symbols.XCloseDisplay(d);
  } finally {
    x.close();
  }
}
