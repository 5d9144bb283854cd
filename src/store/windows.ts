// Windows keychain: Credential Manager generic credentials (target "<service>:<name>") through
// Windows PowerShell, which P/Invokes CredReadW/CredWriteW/CredDeleteW. `cmdkey` cannot read a
// password back and takes it in argv; here the script and the value both travel on stdin
// (`-Command -`), and argv holds only fixed flags.
import { existsSync } from "node:fs";
import { z } from "zod";
import { BrokerError } from "../errors.ts";
import { firstLine, POWERSHELL_ARGS, runHelper, type HelperResult } from "./exec.ts";
import type { KeychainItem, KeychainItems, KeychainProbe } from "./keychain.ts";

// In exec.ts beside the other helper paths: the proxy's process identity and the approval
// dialog use PowerShell too, without loading this backend.
export { POWERSHELL_ARGS, windowsPowerShellPath } from "./exec.ts";

/** CRED_MAX_CREDENTIAL_BLOB_SIZE (wincred.h): 5 × 512 bytes; payloads are ASCII, one byte per character. */
export const CRED_MAX_BLOB = 2560;

const ERROR_NOT_FOUND = 1168;
const ERROR_NO_SUCH_LOGON_SESSION = 1312;
const ERROR_ACCESS_DENIED = 5;

const ReplySchema = z.union([
  z.object({ ok: z.literal(true), found: z.boolean(), blob: z.string().optional() }),
  z.object({ ok: z.literal(false), error: z.number().int() }),
]);
type Reply = z.infer<typeof ReplySchema>;

export type CredRequest = { op: "read" | "delete"; target: string } | { op: "write"; target: string; account: string; blob: string };

export interface WindowsCredentialOptions {
  /** Absolute path of powershell.exe (or pwsh.exe); tests point it at a recording fake. */
  powershell: string;
  /** The environment the helper runs in: the broker's inherited one (src/config.ts InheritedEnv; the helper needs SystemRoot and the user's profile). */
  env: Readonly<Record<string, string | undefined>>;
  /** Per call; PowerShell itself takes a few hundred milliseconds to start. */
  timeoutMs?: number;
}

/** Windows Credential Manager as KeychainItems. */
export class WindowsCredentialManager implements KeychainItems {
  readonly kind = "windows" as const;
  readonly description: string;
  readonly maxItemChars = CRED_MAX_BLOB;
  readonly #opts: Required<WindowsCredentialOptions>;

  constructor(opts: WindowsCredentialOptions) {
    this.#opts = { ...opts, timeoutMs: opts.timeoutMs ?? 20_000 };
    this.description = `Windows Credential Manager via ${opts.powershell}`;
  }

  async read(service: string, account: string): Promise<string | null> {
    return (await this.readMany([{ service, account }]))[0] ?? null;
  }

  async readMany(keys: readonly Omit<KeychainItem, "payload">[]): Promise<(string | null)[]> {
    const replies = await this.#call(keys.map((k) => ({ op: "read", target: credTarget(k.service, k.account) })));
    return replies.map((r) => (r.found ? (r.blob ?? "") : null));
  }

  async write(service: string, account: string, payload: string): Promise<void> {
    await this.writeMany([{ service, account, payload }]);
  }

  async writeMany(items: readonly KeychainItem[]): Promise<void> {
    if (items.some((i) => i.payload.length > CRED_MAX_BLOB)) throw new BrokerError("INVALID_INPUT", `A Credential Manager item holds at most ${CRED_MAX_BLOB} bytes.`);
    await this.#call(items.map((i) => ({ op: "write", target: credTarget(i.service, i.account), account: i.account, blob: i.payload })));
  }

  async remove(service: string, account: string): Promise<boolean> {
    const [r] = await this.#call([{ op: "delete", target: credTarget(service, account) }]);
    return r?.found ?? false;
  }

  /** Quick: powershell.exe exists (starting it costs ≈0.3 s). Thorough: one CredRead round trip. */
  async probe(thorough = false): Promise<KeychainProbe> {
    if (!existsSync(this.#opts.powershell)) return { state: "unavailable", why: `${this.#opts.powershell} was not found`, fix: "install Windows PowerShell, or set MCB_STORE=file" };
    if (!thorough) return { state: "ready", detail: "PowerShell found (not started)" };
    try {
      await this.#call([{ op: "read", target: "mcp-credentials-broker-probe" }]);
      return { state: "ready", detail: "Credential Manager answered" };
    } catch (e) {
      return { state: "unavailable", why: (e as Error).message, fix: "run from an interactive Windows logon session" };
    }
  }

  /** Runs one PowerShell for a batch of requests; returns one reply per request or throws the first failure. */
  async #call(requests: CredRequest[]): Promise<Extract<Reply, { ok: true }>[]> {
    const r = await runHelper({ command: this.#opts.powershell, args: POWERSHELL_ARGS, stdin: credScript(requests), env: this.#opts.env, timeoutMs: this.#opts.timeoutMs });
    const replies = parseReplies(r);
    if (replies.length !== requests.length) {
      // PowerShell echoes a failing script line in its errors, and the script holds the
      // value for writes: stderr is shown only for calls that carried none.
      const why = requests.some((q) => q.op === "write") ? "" : firstLine(r.stderr);
      throw new BrokerError("BACKEND_UNAVAILABLE", `PowerShell gave no answer the broker understands (exit ${r.code}${why ? `: ${why}` : ""}). Run \`mcp-credentials-broker doctor\`.`);
    }
    const failed = replies.find((x) => !x.ok);
    if (!failed || failed.ok) return replies as Extract<Reply, { ok: true }>[];
    if (failed.error === ERROR_NO_SUCH_LOGON_SESSION) {
      throw new BrokerError("BACKEND_UNAVAILABLE", "Credential Manager is not available in this logon session (a service account, or SSH without a password logon). Run from an interactive session, or use --store file.");
    }
    if (failed.error === ERROR_ACCESS_DENIED) throw new BrokerError("KEYCHAIN_DENIED", "Windows denied access to the Credential Manager item. Check that it belongs to your user.");
    throw new BrokerError("BACKEND_UNAVAILABLE", `Credential Manager failed with Windows error ${failed.error}. Run \`mcp-credentials-broker doctor\`.`);
  }
}

/** The Credential Manager target of an item: "mcp-credentials-broker:<name>" for a secret's head item. */
export function credTarget(service: string, account: string): string {
  return `${service}:${account}`;
}

/** The reply objects on stdout, in order; other lines (banners, noise) are skipped. */
function parseReplies(r: HelperResult): Reply[] {
  const replies: Reply[] = [];
  for (const line of r.stdout.split(/\r?\n/)) {
    if (!line.startsWith("{")) continue;
    try {
      const parsed = ReplySchema.safeParse(JSON.parse(line));
      if (parsed.success) replies.push(parsed.data);
    } catch {
      /* not JSON */
    }
  }
  return replies;
}

const MARSHAL = "[Runtime.InteropServices.Marshal]";
// C# members for Add-Type, on one line: `-Command -` runs stdin line by line, so every line
// of the script is one complete statement.
const NATIVE = [
  "[StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)] public struct CREDENTIAL { public int Flags; public int Type; public string TargetName; public string Comment; public System.Runtime.InteropServices.ComTypes.FILETIME LastWritten; public int CredentialBlobSize; public IntPtr CredentialBlob; public int Persist; public int AttributeCount; public IntPtr Attributes; public string TargetAlias; public string UserName; }",
  '[DllImport("advapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)] public static extern bool CredReadW(string target, int type, int flags, out IntPtr credential);',
  '[DllImport("advapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)] public static extern bool CredWriteW(ref CREDENTIAL credential, int flags);',
  '[DllImport("advapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)] public static extern bool CredDeleteW(string target, int type, int flags);',
  '[DllImport("advapi32.dll")] public static extern void CredFree(IntPtr buffer);',
].join(" ");

// CRED_TYPE_GENERIC = 1, CRED_PERSIST_LOCAL_MACHINE = 2; ERROR_NOT_FOUND (1168) means "no such item".
// One function on one line, run once per request.
const OPS = [
  `if ($req.op -eq 'read') { $p = [IntPtr]::Zero; if ([McbCred.Native]::CredReadW($req.target, 1, 0, [ref]$p)) { $c = ${MARSHAL}::PtrToStructure($p, [type][McbCred.Native+CREDENTIAL]); $b = New-Object byte[] $c.CredentialBlobSize; if ($c.CredentialBlobSize -gt 0) { ${MARSHAL}::Copy($c.CredentialBlob, $b, 0, $c.CredentialBlobSize) }; [McbCred.Native]::CredFree($p); Send-Reply @{ ok = $true; found = $true; blob = [Text.Encoding]::ASCII.GetString($b) } } else { Send-Failure ${MARSHAL}::GetLastWin32Error() } }`,
  `if ($req.op -eq 'write') { $bytes = [Text.Encoding]::ASCII.GetBytes([string]$req.blob); $c = New-Object McbCred.Native+CREDENTIAL; $c.Type = 1; $c.TargetName = $req.target; $c.UserName = $req.account; $c.Persist = 2; $c.CredentialBlobSize = $bytes.Length; $c.CredentialBlob = ${MARSHAL}::AllocHGlobal([Math]::Max(1, $bytes.Length)); ${MARSHAL}::Copy($bytes, 0, $c.CredentialBlob, $bytes.Length); $ok = [McbCred.Native]::CredWriteW([ref]$c, 0); $e = ${MARSHAL}::GetLastWin32Error(); ${MARSHAL}::FreeHGlobal($c.CredentialBlob); if ($ok) { Send-Reply @{ ok = $true; found = $true } } else { Send-Failure $e } }`,
  `if ($req.op -eq 'delete') { if ([McbCred.Native]::CredDeleteW($req.target, 1, 0)) { Send-Reply @{ ok = $true; found = $true } } else { Send-Failure ${MARSHAL}::GetLastWin32Error() } }`,
];

/**
 * The PowerShell script for a batch of requests, sent on stdin. The requests (with the
 * values, for writes) are base64-encoded JSON on the second line, so no quoting of names or
 * values is ever needed; the script prints one JSON reply line per request, in order.
 */
export function credScript(requests: CredRequest[]): string {
  const encoded = Buffer.from(JSON.stringify({ requests }), "utf8").toString("base64");
  return [
    "$ErrorActionPreference = 'Stop'",
    // An object around the array: Windows PowerShell 5.1's ConvertFrom-Json does not enumerate a top-level array.
    `$batch = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('${encoded}')) | ConvertFrom-Json`,
    `Add-Type -Namespace McbCred -Name Native -MemberDefinition '${NATIVE}'`,
    "function Send-Reply($o) { [Console]::Out.WriteLine(($o | ConvertTo-Json -Compress)) }",
    `function Send-Failure($e) { if ($e -eq ${ERROR_NOT_FOUND}) { Send-Reply @{ ok = $true; found = $false } } else { Send-Reply @{ ok = $false; error = $e } } }`,
    `function Invoke-Request($req) { ${OPS.join(" ")} }`,
    "foreach ($req in $batch.requests) { Invoke-Request $req }",
    "exit 0",
    "",
  ].join("\n");
}
