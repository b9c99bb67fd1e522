/**
 * An org's secrets in the contract: admins store a value under a name and say which chats (and agents) may use it;
 * an agent's header values reference them as `{{secret:NAME}}`, and everyone sees `[secret:NAME]` in their place.
 * No schema here carries a value out: a value only goes in.
 */
import { z } from "zod";
import { timestamp, uuid } from "./primitives";

export const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
/** A reference in an admin-written header value; replaced at execution time, never in what a model writes. */
export const SECRET_REFERENCE = /\{\{secret:([A-Z][A-Z0-9_]{0,63})\}\}/g;
/** How a secret is shown in its place, to everyone. */
export const SECRET_DISPLAY = /\[secret:([A-Z][A-Z0-9_]{0,63})\]/g;

export const secretName = z.string().regex(SECRET_NAME, "names are A-Z, 0-9 and _, starting with a letter, at most 64");
/**
 * A value is sent in a header: printable ASCII only, at most 2,048 characters. Control characters (CR, LF) would
 * split headers, and other characters travel as bytes a service may read in another charset and echo back in a form
 * redaction does not know.
 */
export const secretValue = z
  .string()
  .min(1)
  .max(2048)
  .regex(/^[\x20-\x7e]+$/, "values are printable ASCII (space to ~)");

export const secretGrants = z
  .object({
    /** Every chat of the org, or the chats named. */
    chats: z.union([z.literal("all"), z.array(uuid).max(200)]),
    /** The agents named; omitted: every agent of the org. */
    agents: z.array(uuid).max(200).optional(),
  })
  .strict()
  .meta({ id: "SecretGrants" });
export type SecretGrants = z.infer<typeof secretGrants>;

export const createSecretBody = z.object({ name: secretName, value: secretValue, grants: secretGrants }).strict();
/** A value is a rotation; grants replace the grants before. */
export const updateSecretBody = z
  .object({ value: secretValue.optional(), grants: secretGrants.optional() })
  .strict()
  .refine((body) => body.value !== undefined || body.grants !== undefined, "nothing to change");

/** A secret as every answer shows it: never its value. */
export const secretSchema = z
  .object({
    name: z.string(),
    grants: secretGrants,
    createdAt: timestamp,
    updatedAt: timestamp,
    lastUsedAt: timestamp.nullable(),
  })
  .meta({ id: "Secret" });
export const secretsResponse = z.object({ secrets: z.array(secretSchema) });
export const secretResponse = z.object({ secret: secretSchema });
export const removedSecretResponse = z.object({ removed: z.object({ name: z.string() }) });
export const secretParams = z.object({ orgId: z.string(), name: z.string() });

/** The names a header value references, in order, each once. */
export function referencedSecrets(value: string): string[] {
  return [...new Set([...value.matchAll(SECRET_REFERENCE)].map((match) => match[1]))];
}

/** A header value as members see it: each reference shown as `[secret:NAME]`, the rest as written. */
export function displayedHeaderValue(value: string): string {
  return value.replace(SECRET_REFERENCE, "[secret:$1]");
}

/** A header value as an admin sends it back: `[secret:NAME]` means the reference it shows. */
export function writtenHeaderValue(value: string): string {
  return value.replace(SECRET_DISPLAY, "{{secret:$1}}");
}

/** A (non-empty) header value with no reference: written before secrets existed, moved into one on first read. */
export function isPlainHeaderValue(value: string): boolean {
  return value !== "" && referencedSecrets(value).length === 0;
}
