/** A member's read cursor in a chat: `PUT /api/chats/:chatId/read`. */
import { and, eq, sql } from "drizzle-orm";
import { chatIdParams } from "../../protocol/orgs";
import { markReadBody, markReadResponse } from "../../protocol/reading";
import { requireChatMember } from "../access";
import { chatMemberships, chats } from "../db/schema";
import { badRequest } from "../errors";
import { authedRoute, jsonBody, jsonContent, router } from "../openapi";
import { readRoomHistory } from "../orchestrator";

const markReadRoute = authedRoute(
  {
    method: "put",
    path: "/{chatId}/read",
    tags: ["chats"],
    summary: "Move the caller's read cursor in a chat (chat members)",
    description:
      "The cursor only moves forward: a `seq` at or below it changes nothing. A `seq` past the chat's newest " +
      "message is refused (400) and nothing changes. Chat lists learn the chat's newest seq from its room in " +
      "batches (`PARLOR_ACTIVITY_BATCH_MS`); a `seq` the room has but the list has not yet seen is accepted.",
    request: { params: chatIdParams, body: jsonBody(markReadBody) },
    responses: { 200: jsonContent(markReadResponse, "The caller's cursor and unread count now.") },
  },
  ["forbidden", "not_found"],
);

export const readingRoutes = router().openapi(markReadRoute, async function markRead(c) {
  const userId = c.var.caller.userId;
  const { chat } = await requireChatMember(c.var.db, c.req.valid("param").chatId, userId);
  const { seq } = c.req.valid("json");
  const [known] = await c.var.db.select({ lastSeq: chats.lastSeq }).from(chats).where(eq(chats.id, chat.id));
  let lastSeq = known?.lastSeq ?? 0;
  if (seq > lastSeq) {
    // The list's head trails the room by up to a batch: only the room knows whether this seq exists yet.
    const [message] = await readRoomHistory(c.env, chat.id, { after: seq - 1, limit: 1 });
    if (message?.seq !== seq) throw badRequest(`seq ${seq} is past the chat's newest message`);
    await c.var.db
      .update(chats)
      .set({
        lastSeq: sql`greatest(${chats.lastSeq}, ${seq})`,
        lastActivityAt: sql`greatest(${chats.lastActivityAt}, ${new Date(message.createdAt)})`,
      })
      .where(eq(chats.id, chat.id));
    lastSeq = seq;
  }
  const [cursor] = await c.var.db
    .update(chatMemberships)
    .set({ readSeq: sql`greatest(${chatMemberships.readSeq}, ${seq})` })
    .where(and(eq(chatMemberships.chatId, chat.id), eq(chatMemberships.userId, userId)))
    .returning({ readSeq: chatMemberships.readSeq });
  const readSeq = cursor?.readSeq ?? seq;
  return c.json({ read: { chatId: chat.id, seq: readSeq, lastSeq, unread: Math.max(0, lastSeq - readSeq) } }, 200);
});
