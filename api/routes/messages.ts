/** A chat's messages and its sockets: checked here, stored and broadcast by the chat's room. */
import { createMiddleware } from "hono/factory";
import {
  type CatchUp,
  listMessagesQuery,
  messageResponse,
  messagesResponse,
  postMessageBody,
  socketQuery,
  socketTicketResponse,
  socketTokenQuery,
} from "../../protocol/chat";
import { chatIdParams } from "../../protocol/orgs";
import { requireChatMember } from "../access";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { log } from "../log";
import { authenticate } from "../middleware/authenticate";
import { database } from "../middleware/database";
import { authedRoute, jsonBody, jsonContent, router } from "../openapi";
import { openProgressSocket, openRoomSocket, postToRoom, readRoomHistory } from "../orchestrator";
import { issueSocketTicket } from "../socket-tickets";

const tags = ["messages"];
const DEFAULT_PAGE = 100;

const listMessagesRoute = authedRoute(
  {
    method: "get",
    path: "/{chatId}/messages",
    tags,
    summary: "A page of the chat's log",
    description:
      "`after=SEQ` returns the messages after SEQ; `before=SEQ` the ones just below SEQ; both ascending by seq. " +
      "Neither means `after=0`; both is a 400. `limit` is 1-500 (default 100).",
    request: { params: chatIdParams, query: listMessagesQuery },
    responses: { 200: jsonContent(messagesResponse, "Messages in seq order.") },
  },
  ["forbidden", "not_found"],
);
const postMessageRoute = authedRoute(
  {
    method: "post",
    path: "/{chatId}/messages",
    tags,
    summary: "Send a message",
    description:
      "Idempotent per author and `clientMessageId`: a retry answers 200 with the message already stored (and does " +
      "not count against the limit). Each member may send a burst of messages per chat, refilled at a steady rate " +
      "(`PARLOR_RATE_LIMITS`); over it the answer is 429 `rate_limited` with `Retry-After` (seconds) and nothing " +
      "is stored.",
    request: { params: chatIdParams, body: jsonBody(postMessageBody) },
    responses: {
      201: jsonContent(
        messageResponse,
        "Stored with the next seq and broadcast. `runsRefused` lists agents it called that billing or a quota " +
          "stopped (the sender's socket gets an `error` event too, and the chat a notice).",
      ),
      200: jsonContent(messageResponse, "This author already sent that clientMessageId: the stored message."),
    },
  },
  ["forbidden", "not_found", "rate_limited", "conflict"],
);

const socketTicketRoute = authedRoute(
  {
    method: "post",
    path: "/{chatId}/socket-ticket",
    tags: ["sockets"],
    summary: "A one-use ticket to open one of the chat's sockets",
    description:
      "Opens one socket (`/ws` or `/progress`) of this chat as the caller, once, within 30 s: pass it as " +
      "`?ticket=`, so no session token appears in a URL or a request log. A used, expired or other chat's ticket " +
      "is refused (401).",
    request: { params: chatIdParams },
    responses: { 200: jsonContent(socketTicketResponse, "The ticket (opaque).") },
  },
  ["forbidden", "not_found"],
);

export const messageRoutes = router()
  .openapi(listMessagesRoute, async function listMessages(c) {
    const { chat } = await requireChatMember(c.var.db, c.req.valid("param").chatId, c.var.caller.userId);
    const { after, before, limit = DEFAULT_PAGE } = c.req.valid("query");
    const page = before === undefined ? { after: after ?? 0, limit } : { before, limit };
    return c.json({ messages: await readRoomHistory(c.env, chat.id, page) }, 200);
  })
  .openapi(postMessageRoute, async function postMessage(c) {
    const { userId } = c.var.caller;
    const { chat, name } = await requireChatMember(c.var.db, c.req.valid("param").chatId, userId);
    const { message, created, runsRefused } = await postToRoom(
      c.env,
      { chatId: chat.id, orgId: chat.orgId },
      { userId, name },
      c.req.valid("json"),
    );
    if (!created) return c.json({ message }, 200);
    return c.json(runsRefused ? { message, runsRefused } : { message }, 201);
  })
  .openapi(socketTicketRoute, async function issueTicket(c) {
    const { caller } = c.var;
    const { chat } = await requireChatMember(c.var.db, c.req.valid("param").chatId, caller.userId);
    try {
      return c.json({ ticket: await issueSocketTicket(c.env, chat.id, caller) }, 200);
    } catch (error) {
      log("error", "socket_ticket_issue_failed", {
        requestId: c.var.requestId ?? null,
        orgId: chat.orgId,
        chatId: chat.id,
        userId: caller.userId,
        reason: error instanceof Error ? error.name : "unknown",
      });
      throw error;
    }
  });

const requireUpgrade = createMiddleware<AppEnv>(async function requireUpgrade(c, next) {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("bad_request", "this endpoint expects a WebSocket upgrade");
  }
  await next();
});

const upgraded = { 101: { description: "Switching Protocols: the socket is open." } };

const roomSocketRoute = authedRoute(
  {
    method: "get",
    path: "/{chatId}/ws",
    tags: ["sockets"],
    summary: "The chat's socket (WebSocket upgrade)",
    description:
      "Browsers pass a one-use `?ticket=` (POST …/socket-ticket) or the session token as `?token=`. The room sends the messages after `after` (at most 1,000), or " +
      "the newest `tail` of them, then `ready` { lastSeq, hasMore }, then live events: every event is a " +
      "`RoomEvent` (components.schemas); frames the client sends are `ClientFrame`s.",
    middleware: [requireUpgrade, authenticate({ allowQueryToken: true }), database] as const,
    request: { params: chatIdParams, query: socketQuery },
    responses: upgraded,
  },
  ["forbidden", "not_found"],
);
const progressSocketRoute = authedRoute(
  {
    method: "get",
    path: "/{chatId}/progress",
    tags: ["sockets"],
    summary: "The chat's live-progress document (Yjs over y-partyserver; read-only for clients)",
    middleware: [requireUpgrade, authenticate({ allowQueryToken: true }), database] as const,
    request: { params: chatIdParams, query: socketTokenQuery },
    responses: upgraded,
  },
  ["forbidden", "not_found"],
);

/** The socket routes authenticate on their own: browsers can only pass the token in the query string. */
export const socketRoutes = router()
  .openapi(progressSocketRoute, async function connectToProgress(c) {
    const { userId } = c.var.caller;
    const { chat } = await requireChatMember(c.var.db, c.req.valid("param").chatId, userId);
    const response = await openProgressSocket(c.env, chat.id, userId, c.req.query("_pk"));
    logSocketOpened(c.var.requestId, "progress", { orgId: chat.orgId, chatId: chat.id, userId }, response, c.req.raw);
    return response;
  })
  .openapi(roomSocketRoute, async function connectToRoom(c) {
    const { userId } = c.var.caller;
    const { chat, name, orgRole } = await requireChatMember(c.var.db, c.req.valid("param").chatId, userId);
    const { after, tail } = c.req.valid("query");
    const catchUp: CatchUp = tail === undefined ? { after: after ?? 0 } : { tail };
    const response = await openRoomSocket(
      c.env,
      { chatId: chat.id, orgId: chat.orgId },
      { userId, name, role: orgRole },
      catchUp,
    );
    logSocketOpened(c.var.requestId, "chat", { orgId: chat.orgId, chatId: chat.id, userId }, response, c.req.raw);
    return response;
  });

/** One line per socket the room accepted: ids, which socket, and how it signed in (never the token or ticket). */
function logSocketOpened(
  requestId: string | undefined,
  socket: "chat" | "progress",
  ids: { orgId: string; chatId: string; userId: string },
  response: Response,
  request: Request,
): void {
  if (response.status !== 101) return;
  // The order authenticate() reads them in.
  const query = new URL(request.url).searchParams;
  const auth = request.headers.has("Authorization") ? "header" : query.has("token") ? "token" : "ticket";
  log("info", "socket_opened", { requestId: requestId ?? null, socket, auth, ...ids });
}
