// Input fields shared by several tools, with the limits the core enforces.
import { z } from "zod";
import { MAX_NAME_LENGTH, MAX_VALUE_BYTES } from "../core/broker.ts";
import { MAX_REFERENCE_TTL } from "../core/ttl.ts";
import { ApprovalSettingsSchema, POLICIES } from "../core/store.ts";

export const secretName = z.string().min(1).max(MAX_NAME_LENGTH);
export const purpose = z.string().min(1).max(512);
export const referenceTtlSeconds = z.number().int().min(1).max(MAX_REFERENCE_TTL);
export const secretValue = z.string().min(1).max(MAX_VALUE_BYTES);
export const tags = z.record(z.string().min(1).max(128), z.string().max(1024)).refine((t) => Object.keys(t).length <= 32, "at most 32 tags");
export const success = z.literal(true);
export const message = z.string();

/** What list_secrets and `secret list --json` show for one secret: never the value. */
export const secretEntry = z.object({
  name: z.string(),
  /** allow: get_secret + resolve_secret work; confirm: the user is asked on each resolve; deny: only `run` may use it. */
  policy: z.enum(POLICIES),
  /** confirm: how the user is asked (via os, client or any) and how long an approval is remembered (seconds). */
  approval: ApprovalSettingsSchema.optional(),
  /** The hosts the secret is meant for, when the user named them. */
  hosts: z.array(z.string()).optional(),
  tags: z.record(z.string(), z.string()).optional(),
  provider: z.string().optional(),
  expiresAt: z.number().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
