/**
 * The chat wire protocol: messages, the frames a client sends on a chat's socket, the events the room sends back,
 * and the REST bodies of messages. `api/`, `rooms/` and `web/` import these schemas; nothing redefines them.
 */
import { z } from "zod";
import { runRefusalSchema } from "./billing";
import { AUTHOR_TYPES } from "./enums";
import { errorCode } from "./errors";
import { decimalParam, displayName, roomId, seqParam, timestamp, userId, writtenText } from "./primitives";

export { displayName, userId };

export const MAX_TEXT_BYTES = 16 * 1024;
/** Bodies and frames larger than this are refused (413) before parsing. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** The most messages one REST page holds. */
export const MAX_PAGE = 500;
/** The most messages a socket's catch-up sends before `ready`; the client pages the rest over REST. */
export const MAX_CATCH_UP = 1000;

export const messageText = writtenText({ maxBytes: MAX_TEXT_BYTES });

export const clientMessageId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, "clientMessageId may hold letters, digits and . _ : - only");

export const authorSchema = z
  .object({ type: z.enum(AUTHOR_TYPES), id: z.string(), name: z.string().optional() })
  .meta({ id: "Author" });
export type Author = z.infer<typeof authorSchema>;

export const messageSchema = z
  .object({
    seq: z.number().int().positive(),
    id: z.string(),
    clientMessageId: z.string().nullable(),
    author: authorSchema,
    text: z.string(),
    createdAt: timestamp,
    /** Tool results (artifacts) the reply used; only on agents' replies that used any. */
    artifactIds: z.array(z.string()).optional(),
    /** The agent run this message ended (its reply, failure notice or stopped reply): what a retry names. */
    runId: z.string().optional(),
    /** The run was stopped by a member: this is the reply as far as it got. */
    stopped: z.literal(true).optional(),
    /** When its author last edited it; `text` is the edited text. */
    editedAt: timestamp.optional(),
    /** When it was deleted: its `text` is "" (gone from the room), and `deletedBy` is who deleted it. */
    deletedAt: timestamp.optional(),
    deletedBy: z.string().optional(),
  })
  .meta({ id: "Message" });
export type Message = z.infer<typeof messageSchema>;

export const presentUserSchema = z.object({ id: z.string(), name: z.string() }).meta({ id: "PresentUser" });
export type PresentUser = z.infer<typeof presentUserSchema>;

// ---- frames a client sends on the socket ----

export const sendMessageFrame = z.object({ type: z.literal("message"), text: messageText, clientMessageId });
export const typingFrame = z.object({ type: z.literal("typing") });
export const approvalFrame = z.object({
  type: z.literal("approval"),
  approvalId: roomId,
  decision: z.enum(["approve", "deny"]),
});
/** Stops an agent run (its initiator or an org admin): the reply so far is stored once, marked stopped. */
export const stopFrame = z.object({ type: z.literal("stop"), runId: roomId });
export const clientFrameSchema = z
  .discriminatedUnion("type", [sendMessageFrame, typingFrame, approvalFrame, stopFrame])
  .meta({ id: "ClientFrame" });
export type ClientFrame = z.infer<typeof clientFrameSchema>;

// ---- events the room sends about messages, presence and errors (runs and approvals: protocol/agents.ts) ----

export const messageEvent = messageSchema.extend({ type: z.literal("message") });
/**
 * Sent once after catch-up: messages up to the last one sent have been delivered, live events follow.
 * `lastSeq` is the chat's head; `hasMore` says catch-up stopped short of it (page the rest over REST).
 */
export const readyEvent = z.object({
  type: z.literal("ready"),
  lastSeq: z.number().int().nonnegative(),
  hasMore: z.boolean(),
  you: presentUserSchema,
});
export const presenceEvent = z.object({ type: z.literal("presence"), users: z.array(presentUserSchema) });
export const typingEvent = z.object({ type: z.literal("typing"), user: presentUserSchema });
export const errorEvent = z.object({
  type: z.literal("error"),
  code: errorCode,
  message: z.string(),
  clientMessageId: z.string().optional(),
});
export const chatEventSchemas = [messageEvent, readyEvent, presenceEvent, typingEvent, errorEvent] as const;
export const serverEventSchema = z.discriminatedUnion("type", [...chatEventSchemas]);
export type ServerEvent = z.infer<typeof serverEventSchema>;
export type ServerEventOf<T extends ServerEvent["type"]> = Extract<ServerEvent, { type: T }>;

/** Close codes the room uses; 4xxx are application codes a client may act on. */
export const closeCodes = {
  removedFromChat: 4003,
  chatDeleted: 4004,
} as const;

// ---- REST and socket parameters of messages ----

export const postMessageBody = sendMessageFrame.omit({ type: true }).meta({ id: "PostMessageBody" });
export type PostMessageBody = z.infer<typeof postMessageBody>;

const pageLimit = decimalParam({ min: 1, max: MAX_PAGE });

/** `after` pages forward, `before` backward (the N just below it, ascending); neither means `after=0`. */
export const listMessagesQuery = z
  .object({ after: seqParam.optional(), before: seqParam.optional(), limit: pageLimit.optional() })
  .refine((q) => q.after === undefined || q.before === undefined, "give after or before, not both");
export type ListMessagesQuery = z.infer<typeof listMessagesQuery>;

/**
 * Browsers cannot set headers on a WebSocket, so a socket carries a one-use `ticket` (from
 * `POST /api/chats/:chatId/socket-ticket`) or its session `token` in the query.
 */
export const socketTokenQuery = z.object({ token: z.string().optional(), ticket: z.string().optional() });

/** A socket ticket: opens one socket of its user in its chat, within 30 s. */
export const socketTicketResponse = z.object({ ticket: z.string() }).meta({ id: "SocketTicket" });

/** `after=SEQ` catches up from SEQ (at most 1,000), `tail=N` sends the newest N instead; not both. */
export const socketQuery = socketTokenQuery
  .extend({
    after: seqParam.optional(),
    tail: decimalParam({ min: 1, max: MAX_CATCH_UP }).optional(),
  })
  .refine((q) => q.after === undefined || q.tail === undefined, "give after or tail, not both");

/** Where a socket's catch-up starts: after a seq, or the newest N messages. */
export type CatchUp = { after: number } | { tail: number };

export const messagesResponse = z.object({ messages: z.array(messageSchema) });
export const messageResponse = z.object({
  message: messageSchema,
  /** Runs this message would have started that billing or a quota stopped (absent when none). */
  runsRefused: z.array(runRefusalSchema).optional(),
});
