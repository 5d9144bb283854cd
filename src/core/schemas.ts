// The input rules of the broker, in one place: the Broker validates every call with them
// (whoever the caller), the MCP tool input schemas are these zod schemas (src/mcp/schemas.ts),
// and CLI flags are parsed with the parse helpers below — so a limit is written once and an
// agent, a command and a test all meet the same one.
import { z } from "zod";
import { BrokerError } from "../errors.ts";
import { MAX_REMEMBER_SECONDS } from "./approval.ts";
import { APPROVAL_VIAS, isInternalName, INTERNAL_PREFIX, POLICIES, type ApprovalSettings, type ApprovalVia, type Policy } from "./store.ts";
import { MAX_REFERENCE_TTL, MINT_PROVIDERS, type MintProvider } from "./ttl.ts";

export const MAX_NAME_LENGTH = 256;
export const MAX_VALUE_BYTES = 64 * 1024;
export const MAX_PURPOSE_LENGTH = 512;
export const MAX_TAGS = 32;
export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 1024;
export const MAX_HOSTS = 32;
export const MAX_SCOPES = 64;
export const MAX_SCOPE_LENGTH = 256;
export const MAX_RESOURCE_LENGTH = 2048;

// The zod forms: what an MCP client's arguments are checked against before a tool runs (and
// what tools/list publishes). The check functions below say the same in the core's own words.
export const SecretNameSchema = z.string().min(1).max(MAX_NAME_LENGTH);
/** Characters here (JSON Schema has no byte count); checkSecretValue counts UTF-8 bytes. */
export const SecretValueSchema = z.string().min(1).max(MAX_VALUE_BYTES);
export const PurposeSchema = z.string().min(1).max(MAX_PURPOSE_LENGTH);
export const TagsSchema = z
  .record(z.string().min(1).max(MAX_TAG_KEY_LENGTH), z.string().max(MAX_TAG_VALUE_LENGTH))
  .refine((t) => Object.keys(t).length <= MAX_TAGS, `at most ${MAX_TAGS} tags`);
export const ReferenceTtlSchema = z.number().int().min(1).max(MAX_REFERENCE_TTL);
export const PolicySchema = z.enum(POLICIES);
export const ScopesSchema = z.array(z.string().min(1).max(MAX_SCOPE_LENGTH)).max(MAX_SCOPES);
export const ResourceSchema = z.string().min(1).max(MAX_RESOURCE_LENGTH);
export const MintProviderSchema = z.enum(MINT_PROVIDERS);

function invalid(message: string): BrokerError {
  return new BrokerError("INVALID_INPUT", message);
}

/** Throws INVALID_INPUT unless `name` is usable as a user secret name. */
export function checkSecretName(name: string): void {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw invalid(`A secret name must be 1 to ${MAX_NAME_LENGTH} characters.`);
  }
  // biome-ignore lint: control characters are exactly what we refuse here
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw invalid("A secret name must not contain control characters (newlines, tabs, NUL).");
  }
  if (isInternalName(name)) {
    throw invalid(`Names starting with '${INTERNAL_PREFIX}' are reserved for the broker. Choose another name.`);
  }
}

/** Throws INVALID_INPUT for a value above MAX_VALUE_BYTES (UTF-8). */
export function checkSecretValue(value: string): void {
  if (Buffer.byteLength(value) > MAX_VALUE_BYTES) throw invalid(`A secret value may be at most ${MAX_VALUE_BYTES} bytes.`);
}

/** Throws INVALID_INPUT unless `purpose` is 1 to MAX_PURPOSE_LENGTH characters (it is recorded in the audit log and shown in the consent question). */
export function checkPurpose(purpose: string): void {
  if (typeof purpose !== "string" || purpose.length === 0 || purpose.length > MAX_PURPOSE_LENGTH) {
    throw invalid(`A purpose must be 1 to ${MAX_PURPOSE_LENGTH} characters: say briefly why the secret is needed.`);
  }
}

/** Throws INVALID_INPUT unless the tags keep the limits: at most MAX_TAGS, keys 1 to MAX_TAG_KEY_LENGTH characters, values at most MAX_TAG_VALUE_LENGTH. */
export function checkTags(tags: Record<string, string>): void {
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS) throw invalid(`A secret may have at most ${MAX_TAGS} tags.`);
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > MAX_TAG_KEY_LENGTH) throw invalid(`A tag key must be 1 to ${MAX_TAG_KEY_LENGTH} characters ('${k.slice(0, 40)}').`);
    if (typeof v !== "string" || v.length > MAX_TAG_VALUE_LENGTH) throw invalid(`The value of tag '${k.slice(0, 40)}' must be text of at most ${MAX_TAG_VALUE_LENGTH} characters.`);
  }
}

/** Throws INVALID_INPUT unless `policy` is one of POLICIES. */
export function checkPolicy(policy: string): asserts policy is Policy {
  if (!(POLICIES as readonly string[]).includes(policy)) throw invalid(`Unknown policy '${String(policy).slice(0, 64)}'. Use one of: ${POLICIES.join(", ")}.`);
}

/** Throws INVALID_INPUT unless `via` is one of APPROVAL_VIAS. */
export function checkApprovalVia(via: string): asserts via is ApprovalVia {
  if (!(APPROVAL_VIAS as readonly string[]).includes(via)) throw invalid(`Unknown --via '${String(via).slice(0, 40)}'. Use one of: ${APPROVAL_VIAS.join(", ")}.`);
}

/** Throws INVALID_INPUT unless a `confirm` secret's approval settings keep the rules: a known `via`, remembered for 1 s to MAX_REMEMBER_SECONDS. */
export function checkApprovalSettings(approval: ApprovalSettings): void {
  checkApprovalVia(approval.via);
  const r = approval.rememberSeconds;
  if (r !== undefined && (!Number.isInteger(r) || r < 1 || r > MAX_REMEMBER_SECONDS)) {
    throw invalid(`An approval may be remembered for 1 to ${MAX_REMEMBER_SECONDS} seconds (got ${String(r).slice(0, 20)}).`);
  }
}

/** Throws INVALID_INPUT unless a mint request keeps the limits: a known provider, at most MAX_SCOPES scopes of 1 to MAX_SCOPE_LENGTH characters, a resource of at most MAX_RESOURCE_LENGTH. */
export function checkMintRequest(input: { provider: string; scopes: string[]; resource?: string }): asserts input is { provider: MintProvider; scopes: string[]; resource?: string } {
  if (!(MINT_PROVIDERS as readonly string[]).includes(input.provider)) throw invalid(`Unknown provider '${String(input.provider).slice(0, 64)}'. Use one of: ${MINT_PROVIDERS.join(", ")}.`);
  if (!Array.isArray(input.scopes) || input.scopes.length > MAX_SCOPES) throw invalid(`At most ${MAX_SCOPES} scopes.`);
  for (const s of input.scopes) if (typeof s !== "string" || s.length === 0 || s.length > MAX_SCOPE_LENGTH) throw invalid(`A scope must be 1 to ${MAX_SCOPE_LENGTH} characters.`);
  if (input.resource !== undefined && (input.resource.length === 0 || input.resource.length > MAX_RESOURCE_LENGTH)) throw invalid(`A resource must be 1 to ${MAX_RESOURCE_LENGTH} characters.`);
}

/**
 * Normalises the hosts a secret is for: lower-case `host`, `host:port` or `*.domain`, at
 * most MAX_HOSTS, duplicates dropped. A URL is accepted and reduced to its host.
 */
export function normalizeHosts(hosts: string[]): string[] {
  const out = new Set<string>();
  for (const raw of hosts) {
    let h = raw.trim().toLowerCase();
    if (h.includes("://")) {
      try {
        h = new URL(h).host;
      } catch {
        /* refused below */
      }
    }
    if (!/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:\d{1,5})?$/.test(h) || h.length > 260) {
      throw invalid(`'${raw.slice(0, 100)}' is not a host. Give a host name such as api.github.com, api.example.com:8443 or *.example.com.`);
    }
    out.add(h);
  }
  if (out.size > MAX_HOSTS) throw invalid(`A secret may name at most ${MAX_HOSTS} hosts.`);
  return [...out];
}

// CLI flag parsing: the same rules, from the strings a command line gives.

/** Parses a policy name (`--policy`, `secret policy <name> <policy>`), or throws a usage error listing the choices. */
export function parsePolicy(raw: string): Policy {
  checkPolicy(raw);
  return raw;
}

/** Parses `--via` (who asks about a `confirm` secret), or throws a usage error listing the choices. */
export function parseApprovalVia(raw: string): ApprovalVia {
  checkApprovalVia(raw);
  return raw;
}

/** Parses repeated `--tag k=v` flags (undefined for none), checked with checkTags. */
export function parseTags(raw: string[]): Record<string, string> | undefined {
  if (raw.length === 0) return undefined;
  const tags: Record<string, string> = {};
  for (const t of raw) {
    const i = t.indexOf("=");
    if (i < 1) throw invalid(`Tag '${t.slice(0, 100)}' is not key=value.`);
    tags[t.slice(0, i)] = t.slice(i + 1);
  }
  checkTags(tags);
  return tags;
}
