/**
 * Editing and deleting messages, and searching them: REST bodies, answers and the room's events. A deleted message
 * keeps its seq (the log stays gap-free) and loses its text: `text` is "" and `deletedAt`/`deletedBy` say so.
 */
import { z } from "zod";
import { messageSchema, messageText } from "./chat";
import { decimalParam, timestamp, writtenText } from "./primitives";

export const messageParams = z.object({ chatId: z.string(), seq: decimalParam({ min: 1 }) });

/** The new text, validated exactly as for posting. */
export const editMessageBody = z.object({ text: messageText }).meta({ id: "EditMessageBody" });
export type EditMessageBody = z.infer<typeof editMessageBody>;

export const editedMessageResponse = z.object({ message: messageSchema });

/** Sent to every socket when an author edits a message; catch-up and history carry the new text from then on. */
export const messageEditedEvent = z.object({
  type: z.literal("message.edited"),
  seq: z.number().int().positive(),
  text: z.string(),
  editedAt: timestamp,
});
/** Sent to every socket when a message is deleted: its text is gone from the room. */
export const messageDeletedEvent = z.object({
  type: z.literal("message.deleted"),
  seq: z.number().int().positive(),
  /** The user id of whoever deleted it (its author or an org admin). */
  deletedBy: z.string(),
  deletedAt: timestamp,
});
export const messageEditEventSchemas = [messageEditedEvent, messageDeletedEvent] as const;
export type MessageEditEvent = z.infer<typeof messageEditedEvent> | z.infer<typeof messageDeletedEvent>;

export const rebuildSummariesResponse = z
  .object({
    /** Summaries removed; the summary job is asked for new ones from the first message, which no deleted text reaches. */
    removed: z.number().int().min(0),
  })
  .meta({ id: "SummariesRebuilt" });

// ---- search ----

export const MAX_SEARCH_RESULTS = 50;
export const DEFAULT_SEARCH_RESULTS = 20;
/** Matched words in a snippet are wrapped in these two characters (STX, ETX), which clients render as highlights. */
export const SNIPPET_MARK = { open: "\u0002", close: "\u0003" } as const;

export const searchQuery = z.object({
  /** Words to find (all of them); taken as plain words, never as FTS syntax. */
  q: writtenText({ maxChars: 200 }),
  limit: decimalParam({ min: 1, max: MAX_SEARCH_RESULTS }).optional(),
});

export const searchResultSchema = z
  .object({
    chatId: z.string(),
    message: messageSchema,
    /** A few words around the match, matched words between U+0002 and U+0003. */
    snippet: z.string(),
  })
  .meta({ id: "SearchResult" });
export type SearchResult = z.infer<typeof searchResultSchema>;
export const searchResponse = z.object({ results: z.array(searchResultSchema) });
