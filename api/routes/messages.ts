/** A chat's messages and its socket: checked here, stored and broadcast by the chat's room. */
import { zValidator } from "@hono/zod-validator";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { listMessagesQuery, postMessageBody, socketQuery } from "../../protocol/chat";
import { requireChatMember } from "../access";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { authenticate } from "../middleware/authenticate";
import { database } from "../middleware/database";
import { openProgressSocket, openRoomSocket, postToRoom, readRoomHistory } from "../orchestrator";
import { validationHook } from "../validation";

export const messageRoutes = new Hono<AppEnv>()
  .get("/:chatId/messages", zValidator("query", listMessagesQuery, validationHook), async function listMessages(c) {
    const { chat } = await requireChatMember(c.var.db, c.req.param("chatId"), c.var.caller.userId);
    const { after, limit } = c.req.valid("query");
    return c.json({ messages: await readRoomHistory(c.env, chat.id, after, limit) });
  })
  .post("/:chatId/messages", zValidator("json", postMessageBody, validationHook), async function postMessage(c) {
    const { userId } = c.var.caller;
    const { chat, name } = await requireChatMember(c.var.db, c.req.param("chatId"), userId);
    const { message, created } = await postToRoom(
      c.env,
      { chatId: chat.id, orgId: chat.orgId },
      { userId, name },
      c.req.valid("json"),
    );
    return c.json({ message }, created ? 201 : 200);
  });

const requireUpgrade = createMiddleware<AppEnv>(async function requireUpgrade(c, next) {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("bad_request", "this endpoint expects a WebSocket upgrade");
  }
  await next();
});

/** The socket routes authenticate on their own: browsers can only pass the token in the query string. */
export const socketRoutes = new Hono<AppEnv>()
  .get(
    "/:chatId/progress",
    requireUpgrade,
    authenticate({ allowQueryToken: true }),
    database,
    async function connectToProgress(c) {
      const { chat } = await requireChatMember(c.var.db, c.req.param("chatId"), c.var.caller.userId);
      return openProgressSocket(c.env, chat.id, c.req.query("_pk"));
    },
  )
  .get(
    "/:chatId/ws",
    requireUpgrade,
    authenticate({ allowQueryToken: true }),
    zValidator("query", socketQuery, validationHook),
    database,
    async function connectToRoom(c) {
      const { userId } = c.var.caller;
      const { chat, name, orgRole } = await requireChatMember(c.var.db, c.req.param("chatId"), userId);
      const { after } = c.req.valid("query");
      return openRoomSocket(c.env, { chatId: chat.id, orgId: chat.orgId }, { userId, name, role: orgRole }, after);
    },
  );
