/**
 * Reading state: how far each member has read each chat, and how far the chat has got. Rooms send their head to
 * Postgres in batches (`PARLOR_ACTIVITY_BATCH_MS`), so `lastSeq` and `unread` in chat lists trail live messages by
 * up to a batch; the open chat's socket is the live view.
 */
import { z } from "zod";
import { timestamp } from "./primitives";

/** The reading state a chat list item carries. */
export const chatReadingFields = {
  /** The newest message's seq as the room last reported it (0: no messages yet). */
  lastSeq: z.number().int().nonnegative(),
  /** When the newest message was written, or the chat was created if it has none. */
  lastActivityAt: timestamp,
  /**
   * Messages after the caller's read cursor. Writing in a chat moves your own cursor to your message, so your own
   * messages never count (nor anything before them).
   */
  unread: z.number().int().nonnegative(),
};

export const markReadBody = z
  .object({ seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) })
  .meta({ id: "MarkReadBody" });
export type MarkReadBody = z.infer<typeof markReadBody>;

export const markReadResponse = z
  .object({
    read: z.object({
      chatId: z.string(),
      /** The caller's cursor after the call: never lower than before (a lower `seq` leaves it where it was). */
      seq: z.number().int().nonnegative(),
      lastSeq: z.number().int().nonnegative(),
      unread: z.number().int().nonnegative(),
    }),
  })
  .meta({ id: "MarkReadResponse" });
