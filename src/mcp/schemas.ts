// Input fields shared by several tools: the core's own schemas (src/core/schemas.ts), which
// the Broker checks again whoever calls it; here they get the tools' names.
import { z } from "zod";
import { MintProviderSchema, PolicySchema, PurposeSchema, ReferenceTtlSchema, ResourceSchema, ScopesSchema, SecretNameSchema, SecretValueSchema, TagsSchema } from "../core/schemas.ts";
import { ApprovalSettingsSchema } from "../core/store.ts";

export const secretName = SecretNameSchema;
export const purpose = PurposeSchema;
export const referenceTtlSeconds = ReferenceTtlSchema;
export const secretValue = SecretValueSchema;
export const tags = TagsSchema;
export const scopes = ScopesSchema;
export const resource = ResourceSchema;
export const mintProvider = MintProviderSchema;
export const success = z.literal(true);
export const message = z.string();

/** What list_secrets and `secret list --json` show for one secret: never the value. */
export const secretEntry = z.object({
  name: z.string(),
  /** allow: get_secret + resolve_secret work; confirm: the user is asked on each resolve; deny: only `run` may use it. */
  policy: PolicySchema,
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
