// The Store port: one small interface every backend (memory, file, OS keychains) implements.
import { z } from "zod";

/**
 * Who may read a secret's value: `allow` (default) any MCP client through a reference,
 * `confirm` only after the user approves each resolve (an OS dialog or the MCP client's
 * elicitation: see ApprovalSettingsSchema), `deny` only
 * `run` (injected into a child's environment, never returned to an agent).
 */
export const POLICIES = ["allow", "confirm", "deny"] as const;
export type Policy = (typeof POLICIES)[number];

/**
 * The OAuth side of a secret obtained by login: how to refresh it, and the refresh token.
 * Kept beside the access token (the record's value) and never handed out: references,
 * `secret get` and listings only ever see the value or the metadata outside this part.
 */
export const OAuthPartSchema = z.object({
  provider: z.string(),
  clientId: z.string(),
  authMethod: z.enum(["client_secret_post", "client_secret_basic", "private_key_jwt", "none"]),
  tokenEndpoint: z.string(),
  /** The issuer logged in to (oauth2 --issuer), for refresh and the "log in again" hint. */
  issuer: z.string().optional(),
  revocationEndpoint: z.string().optional(),
  /** RFC 8707 resource indicator the token was issued for (a remote MCP server), sent again on refresh. */
  resource: z.string().optional(),
  refreshToken: z.string().optional(),
  tokenType: z.string(),
  scope: z.string().optional(),
  /** Bumped by every login and refresh; a refresh that lost a race sees a newer one and re-reads. */
  generation: z.number().int().nonnegative(),
  /** The refresh token was rejected (invalid_grant): only a new login helps. */
  loginRequired: z.boolean().optional(),
});
export type OAuthPart = z.infer<typeof OAuthPartSchema>;

/** Where a `confirm` secret is approved, and how long one approval is remembered (src/core/approval.ts). */
export const APPROVAL_VIAS = ["any", "os", "client"] as const;
export type ApprovalVia = (typeof APPROVAL_VIAS)[number];

/**
 * How the user is asked about a `confirm` secret: `via` os (a system dialog), client (the MCP
 * client's elicitation, or the terminal for `secret get`) or any (the default: the OS dialog
 * when a display is available, else the client); `rememberSeconds`, when set, keeps an
 * approval for that long per MCP client in the serving broker process.
 */
export const ApprovalSettingsSchema = z.object({
  via: z.enum(APPROVAL_VIAS),
  rememberSeconds: z.number().int().positive().optional(),
});
export type ApprovalSettings = z.infer<typeof ApprovalSettingsSchema>;

/** A stored secret: the value plus metadata that may be listed without reading values. */
export const SecretRecordSchema = z.object({
  value: z.string(),
  tags: z.record(z.string(), z.string()).optional(),
  /** Absent means `allow`. */
  policy: z.enum(POLICIES).optional(),
  /** With policy `confirm`: how the user is asked (absent: via any, nothing remembered). */
  approval: ApprovalSettingsSchema.optional(),
  /** Hosts the secret is meant for (e.g. `api.github.com`), shown to agents so they know what it is for. */
  hosts: z.array(z.string()).optional(),
  provider: z.string().optional(),
  expiresAt: z.number().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  oauth: OAuthPartSchema.optional(),
});
export type SecretRecord = z.infer<typeof SecretRecordSchema>;

/** What `list()` returns: everything but the value and the OAuth part (it holds the refresh token). */
export type SecretEntry = Omit<SecretRecord, "value" | "oauth"> & { name: string };

export type StoreBackend = "memory" | "file" | "keychain";

/**
 * Names under this prefix belong to the broker itself (e.g. its JWT signing key). They
 * are refused as user secret names and hidden from listings and counts.
 */
export const INTERNAL_PREFIX = "mcb-internal:";

/**
 * The internal items holding a remote MCP server's token (proxy, connect; src/remote/config.ts
 * names them), tagged with the server as `upstream`: `status` lists them without reading one.
 */
export const REMOTE_TOKEN_PREFIX = `${INTERNAL_PREFIX}remote-token:`;

/** True for names the broker keeps for itself. */
export function isInternalName(name: string): boolean {
  return name.startsWith(INTERNAL_PREFIX);
}

/**
 * A credential store. `get` returns null for a missing name and throws a BrokerError for
 * everything else; `set` resolves only once the write is durable against a crash of this
 * process; `list` never reads values.
 */
export interface Store {
  readonly backend: StoreBackend;
  /** One line for `status`/`doctor`: what the backend is and where it keeps data. */
  readonly description: string;
  get(name: string): Promise<SecretRecord | null>;
  set(name: string, record: SecretRecord): Promise<void>;
  delete(name: string): Promise<boolean>;
  list(): Promise<SecretEntry[]>;
  /** Backends that keep history (the file log) drop what deleted records left behind. */
  compact?(): Promise<void>;
  close(): Promise<void>;
}

/** Strips the value and OAuth part from a record, for listings; the entry is a copy (its tags are not the store's). */
export function toEntry(name: string, record: SecretRecord): SecretEntry {
  const { value: _value, oauth: _oauth, ...meta } = record;
  return { name, ...structuredClone(meta) };
}
