/**
 * The chat wire protocol: every socket frame, socket event and REST body that crosses a boundary.
 * `api/`, `rooms/` and `web/` import these schemas; nothing redefines them.
 */
import { z } from "zod";

export const MAX_TEXT_BYTES = 16 * 1024;
/** Frames larger than this are refused before parsing, so a hostile client cannot make the room parse megabytes. */
export const MAX_FRAME_BYTES = 64 * 1024;
export const MAX_PAGE = 500;

const utf8 = new TextEncoder();

/** Text must be well-formed Unicode (no lone surrogates), not blank, and at most 16 KiB of UTF-8. */
export const messageText = z
  .string()
  .refine((text) => text.isWellFormed(), "text must be well-formed Unicode")
  .refine((text) => text.trim().length > 0, "text must not be empty")
  .refine((text) => utf8.encode(text).byteLength <= MAX_TEXT_BYTES, `text must be at most ${MAX_TEXT_BYTES} bytes`);

export const clientMessageId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, "clientMessageId may hold letters, digits and . _ : - only");

export const userId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "userId may hold letters, digits, _ and - only");

export const displayName = z
  .string()
  .trim()
  .min(1)
  .max(80)
  .refine((name) => name.isWellFormed(), "name must be well-formed Unicode");

export const authorSchema = z.object({
  type: z.enum(["user", "agent", "system"]),
  id: z.string(),
  name: z.string().optional(),
});
export type Author = z.infer<typeof authorSchema>;

export const messageSchema = z.object({
  seq: z.number().int().positive(),
  id: z.string(),
  clientMessageId: z.string().nullable(),
  author: authorSchema,
  text: z.string(),
  createdAt: z.string(),
  /** Tool results (artifacts) the reply used; only on agents' replies that used any. */
  artifactIds: z.array(z.string()).optional(),
});
export type Message = z.infer<typeof messageSchema>;

export const presentUserSchema = z.object({ id: z.string(), name: z.string() });
export type PresentUser = z.infer<typeof presentUserSchema>;

// ---- frames a client sends on the socket ----

export const sendMessageFrame = z.object({
  type: z.literal("message"),
  text: messageText,
  clientMessageId,
});
export const typingFrame = z.object({ type: z.literal("typing") });
export const approvalFrame = z.object({
  type: z.literal("approval"),
  approvalId: z.string().min(1).max(64),
  decision: z.enum(["approve", "deny"]),
});
export const clientFrameSchema = z.discriminatedUnion("type", [sendMessageFrame, typingFrame, approvalFrame]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

// ---- events the room sends on the socket ----

export const errorCodes = [
  "bad_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "payment_required",
  "rate_limited",
  "internal",
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export const serverEventSchema = z.discriminatedUnion("type", [
  messageSchema.extend({ type: z.literal("message") }),
  /** Sent once after catch-up: everything up to `lastSeq` has been delivered, live events follow. */
  z.object({ type: z.literal("ready"), lastSeq: z.number().int().nonnegative(), you: presentUserSchema }),
  z.object({ type: z.literal("presence"), users: z.array(presentUserSchema) }),
  z.object({ type: z.literal("typing"), user: presentUserSchema }),
  z.object({
    type: z.literal("error"),
    code: z.enum(errorCodes),
    message: z.string(),
    clientMessageId: z.string().optional(),
  }),
]);
export type ServerEvent = z.infer<typeof serverEventSchema>;
export type ServerEventOf<T extends ServerEvent["type"]> = Extract<ServerEvent, { type: T }>;

/** Close codes the room uses; 4xxx are application codes a client may act on. */
export const closeCodes = {
  removedFromChat: 4003,
} as const;

// ---- REST bodies ----

export const devTokenBody = z.object({ userId, name: displayName.optional() });
export const createOrgBody = z.object({ name: displayName });
export const orgRole = z.enum(["admin", "member"]);
export type OrgRole = z.infer<typeof orgRole>;
export const addOrgMemberBody = z.object({ userId, role: orgRole.default("member") });
export const removeOrgMemberBody = z.object({ userId });
export const createChatBody = z.object({
  title: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .refine((t) => t.isWellFormed(), "title must be well-formed Unicode"),
});
export const chatMemberBody = z.object({ userId });
export const postMessageBody = sendMessageFrame.omit({ type: true });
export type PostMessageBody = z.infer<typeof postMessageBody>;
export const listMessagesQuery = z.object({
  after: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(100),
});
export const socketQuery = z.object({
  token: z.string().optional(),
  after: z.coerce.number().int().nonnegative().default(0),
});

export const errorBodySchema = z.object({ error: z.object({ code: z.enum(errorCodes), message: z.string() }) });
export type ErrorBody = z.infer<typeof errorBodySchema>;
