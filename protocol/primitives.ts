/**
 * The rules every schema needs, written once: well-formed text, decimal integers in paths and queries, ids.
 * Each class of bad input is refused here, where it is defined, rather than example by example in the routes.
 */
import { z } from "zod";

const utf8 = new TextEncoder();

/** U+0000 is refused everywhere: PostgreSQL cannot store it in text, and no person means to write it. */
const NUL = "\u0000";

/**
 * Text a person or agent writes: well-formed Unicode (no lone surrogates) without NUL. `maxBytes` counts UTF-8.
 * `trim` strips surrounding whitespace before the length checks (titles and names, not message bodies).
 */
export function writtenText(options: { min?: number; maxChars?: number; maxBytes?: number; trim?: boolean } = {}) {
  const { min = 1, maxChars, maxBytes, trim = false } = options;
  let schema = z.string();
  if (trim) schema = schema.trim();
  if (maxChars !== undefined) schema = schema.max(maxChars);
  return schema
    .refine((text) => text.isWellFormed(), "must be well-formed Unicode (no lone surrogates)")
    .refine((text) => !text.includes(NUL), "must not contain NUL (U+0000)")
    .refine(
      (text) => (trim ? text.length : text.trim().length) >= min,
      min === 1 ? "must not be empty" : `must hold at least ${min} characters`,
    )
    .refine(
      (text) => maxBytes === undefined || text.length <= maxBytes / 3 || utf8.encode(text).byteLength <= maxBytes,
      `must be at most ${maxBytes} bytes of UTF-8`,
    );
}

/** A display name: 1-80 characters after trimming. */
export const displayName = writtenText({ maxChars: 80, trim: true });

/** Plain decimal integers only: `1e3`, `0x10`, ` 5`, `+1`, `01` and an empty value are all refused. */
export const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/** A non-negative integer given as a path or query string, read strictly, then bounded. */
export function decimalParam(bounds: { min?: number; max?: number } = {}) {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = bounds;
  return z
    .string()
    .regex(DECIMAL, "must be a plain decimal integer")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

/** A seq in a path or query: 0 means "before the first message". */
export const seqParam = decimalParam();

/** Ids Parlor mints (orgs, chats, agents) are UUIDs. */
export const uuid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "must be a UUID");

/** A user id: Clerk's `user_…`, or a development user's name. */
export const userId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "userId may hold letters, digits, _ and - only");

/** An id the room minted (approvals, artifacts, runs): short, printable, never a path segment trick. */
export const roomId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "must hold letters, digits, _ and - only");

/** Times on the wire are ISO 8601 strings in UTC. */
export const timestamp = z.string().meta({ format: "date-time" });

/**
 * Text a model wrote, made storable: no NUL, lone surrogates replaced by U+FFFD. (A person's text is refused
 * instead; a model's reply is not theirs to resend.)
 */
export function storableText(text: string): string {
  return text.replaceAll("\u0000", "").toWellFormed();
}

/** The first `max` UTF-16 units of `text`, never ending inside a surrogate pair. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, Math.max(0, max));
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}
