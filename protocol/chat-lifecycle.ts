/** Renaming, archiving and deleting a chat, and renaming an org: REST bodies and answers, and the live event. */
import { z } from "zod";
import { chatSchema, chatTitle, orgSchema } from "./orgs";
import { displayName, timestamp, uuid } from "./primitives";

/** Only the fields sent change. */
export const updateChatBody = z
  .object({ title: chatTitle.optional(), archived: z.boolean().optional() })
  .strict()
  .refine((body) => body.title !== undefined || body.archived !== undefined, "give title, archived, or both");
export type UpdateChatBody = z.infer<typeof updateChatBody>;
export const chatResponse = z.object({ chat: chatSchema });

/** `include=archived` lists archived chats too (each says whether it is); without it they are left out. */
export const listChatsQuery = z.object({ include: z.enum(["archived"]).optional() });

export const chatTombstoneSchema = z
  .object({
    chatId: uuid,
    deletedAt: timestamp,
    /** From then on the chat's room storage, its backups and its rows are gone; until then an admin may restore it. */
    purgeAt: timestamp,
  })
  .meta({ id: "ChatTombstone" });
export const deleteChatResponse = z.object({ deleted: chatTombstoneSchema });

export const renameOrgBody = z.object({ name: displayName }).strict();
export const orgResponse = z.object({ org: orgSchema });

/** A chat was renamed, archived or unarchived: every open socket learns its state. */
export const chatUpdatedEvent = z
  .object({ type: z.literal("chat.updated"), title: z.string(), archived: z.boolean() })
  .meta({ id: "ChatUpdatedEvent" });
export type ChatUpdatedEvent = z.infer<typeof chatUpdatedEvent>;
