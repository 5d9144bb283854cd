// Choosing this machine's OS dialog, the display check, and doctor's report of the drivers.
import { describe, expect, it } from "bun:test";
import { dialogEnv, linuxDisplayProblem } from "../../src/approval/dialog.ts";
import { describeApprovalDrivers, linuxDialogProgram, osApprover } from "../../src/approval/os.ts";

const both = (name: string) => ({ zenity: "/usr/bin/zenity", kdialog: "/usr/bin/kdialog" })[name] ?? null;
const only = (which: string) => (name: string) => (name === which ? `/usr/bin/${name}` : null);
const none = () => null;

describe("linuxDisplayProblem", () => {
  const sockets = new Set(["/tmp/.X11-unix/X0", "/run/user/1000/wayland-0"]);
  const exists = (p: string) => sockets.has(p);
  it.each([
    [{ DISPLAY: ":0" }, null],
    [{ DISPLAY: ":0.0" }, null],
    [{ DISPLAY: "unix:0" }, null],
    [{ DISPLAY: "localhost:10.0" }, null],
    [{ WAYLAND_DISPLAY: "wayland-0", XDG_RUNTIME_DIR: "/run/user/1000" }, null],
    [{ WAYLAND_DISPLAY: "/run/user/1000/wayland-0" }, null],
    [{ DISPLAY: ":7" }, "names an X server that is not running (no /tmp/.X11-unix/X7)"],
    [{ WAYLAND_DISPLAY: "wayland-9", XDG_RUNTIME_DIR: "/run/user/1000" }, "names no socket"],
    [{}, "DISPLAY and WAYLAND_DISPLAY are unset"],
    [{ DISPLAY: "" }, "DISPLAY and WAYLAND_DISPLAY are unset"],
  ])("%j → %s", (env, problem) => {
    const got = linuxDisplayProblem(env, exists);
    if (problem === null) expect(got).toBeNull();
    else expect(got).toContain(problem);
  });
});

describe("choosing the OS dialog", () => {
  it("Linux: zenity, or kdialog on KDE or when it is the only one; both by absolute path", () => {
    expect(linuxDialogProgram({}, both)).toEqual({ id: "zenity", path: "/usr/bin/zenity" });
    expect(linuxDialogProgram({ XDG_CURRENT_DESKTOP: "KDE" }, both)).toEqual({ id: "kdialog", path: "/usr/bin/kdialog" });
    expect(linuxDialogProgram({}, only("kdialog"))).toEqual({ id: "kdialog", path: "/usr/bin/kdialog" });
    expect(linuxDialogProgram({ XDG_CURRENT_DESKTOP: "KDE" }, only("zenity"))).toEqual({ id: "zenity", path: "/usr/bin/zenity" });
    expect(linuxDialogProgram({}, none)).toBeNull();
  });

  it("per platform: osascript, PowerShell, zenity/kdialog (saying why not), none elsewhere", () => {
    const base = { env: { DISPLAY: ":0" }, timeoutMs: 1000, exists: () => true };
    expect(osApprover({ ...base, platform: "darwin" })?.id).toBe("osascript");
    expect(osApprover({ ...base, platform: "win32" })?.id).toBe("powershell");
    expect(osApprover({ ...base, platform: "linux", find: both })?.id).toBe("zenity");
    const missing = osApprover({ ...base, platform: "linux", find: none })!;
    expect(missing.unavailable()).toContain("neither zenity nor kdialog is installed (looked in /usr/bin, /bin");
    expect(osApprover({ ...base, platform: "linux", find: both, env: {} })!.unavailable()).toContain("no display");
    expect(osApprover({ ...base, platform: "aix" })).toBeNull();
  });
});

describe("describeApprovalDrivers (doctor)", () => {
  it("Linux with a display: zenity works and is used, kdialog missing, other OSes' dialogs named as such", () => {
    const rows = describeApprovalDrivers({ platform: "linux", env: { DISPLAY: ":0" }, timeoutMs: 1000, find: only("zenity"), exists: () => true, isTty: false });
    expect(rows.map((r) => [r.driver, r.works, r.used ?? false])).toEqual([
      ["osascript", false, false],
      ["zenity", true, true],
      ["kdialog", false, false],
      ["powershell", false, false],
      ["client", true, false],
      ["terminal", false, false],
    ]);
    expect(rows[2]!.detail).toContain("apt install kdialog");
    expect(rows[5]!.detail).toContain("no terminal here");
  });

  it("Linux without a display, macOS over SSH, Windows as a service: each says why not", () => {
    const linux = describeApprovalDrivers({ platform: "linux", env: {}, timeoutMs: 1000, find: both, exists: () => true, isTty: true });
    expect(linux.find((r) => r.driver === "zenity")).toMatchObject({ works: false, detail: expect.stringContaining("no display") });
    expect(linux.find((r) => r.driver === "terminal")).toMatchObject({ works: true });
    const mac = describeApprovalDrivers({ platform: "darwin", env: { SSH_TTY: "/dev/ttys001" }, timeoutMs: 1000, exists: () => true, isTty: false });
    expect(mac.find((r) => r.driver === "osascript")).toMatchObject({ works: false, detail: expect.stringContaining("SSH session") });
    const win = describeApprovalDrivers({ platform: "win32", env: {}, timeoutMs: 1000, exists: () => true, isTty: false });
    expect(win.find((r) => r.driver === "powershell")).toMatchObject({ works: false, detail: expect.stringContaining("SESSIONNAME is unset") });
  });
});

describe("dialogEnv", () => {
  it("keeps the session, drops the broker's own credentials", () => {
    const env = { DISPLAY: ":0", XAUTHORITY: "/home/u/.Xauthority", HOME: "/home/u", LANG: "C.UTF-8", DBUS_SESSION_BUS_ADDRESS: "unix:path=/run/user/1000/bus", MCB_STORE_KEY: "k", JWT_SECRET: "j", GITHUB_CLIENT_SECRET: "g", client_secret: "c", IDP_ID_TOKEN: "t" };
    expect(dialogEnv(env)).toEqual({ DISPLAY: ":0", XAUTHORITY: "/home/u/.Xauthority", HOME: "/home/u", LANG: "C.UTF-8", DBUS_SESSION_BUS_ADDRESS: "unix:path=/run/user/1000/bus" });
  });
});
