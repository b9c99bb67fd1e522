/** Chats of an org, and who is in each chat. */
import { and, asc, desc, eq, isNull } from "drizzle-orm";
import { readBilling } from "../../billing/state";
import { listChatsQuery } from "../../protocol/chat-lifecycle";
import {
  addChatMemberResponse,
  chatIdParams,
  chatMemberBody,
  chatMembersResponse,
  chatsResponse,
  createChatBody,
  createdResponse,
  orgIdParams,
  removeChatMemberResponse,
} from "../../protocol/orgs";
import { requireChatInOrg, requireChatMember, requireOrgMember } from "../access";
import { chatMemberships, chats, orgMemberships, pendingRevocations, users } from "../db/schema";
import { badRequest, forbidden } from "../errors";
import { deliverRevocations, queueRevocations } from "../memberships";
import { authedRoute, jsonBody, jsonContent, router } from "../openapi";
import { activateRoom, admitToRoom } from "../orchestrator";

const tags = ["chats"];

const listChatsRoute = authedRoute(
  {
    method: "get",
    path: "/{orgId}/chats",
    tags,
    summary: "The org's chats the caller is in",
    request: { params: orgIdParams, query: listChatsQuery },
    responses: { 200: jsonContent(chatsResponse, "Newest first; archived ones only with `include=archived`.") },
  },
  ["not_found"],
);
const createChatRoute = authedRoute(
  {
    method: "post",
    path: "/{orgId}/chats",
    tags,
    summary: "Create a chat; the creator is its first member",
    request: { params: orgIdParams, body: jsonBody(createChatBody) },
    responses: { 201: jsonContent(createdResponse, "The new chat's id.") },
  },
  ["not_found"],
);
const listChatMembersRoute = authedRoute(
  {
    method: "get",
    path: "/{chatId}/members",
    tags,
    summary: "The chat's members",
    request: { params: chatIdParams },
    responses: { 200: jsonContent(chatMembersResponse, "Members in the order they joined.") },
  },
  ["forbidden", "not_found"],
);
const addChatMemberRoute = authedRoute(
  {
    method: "post",
    path: "/{chatId}/members",
    tags,
    summary: "Add a member of the chat's org to the chat (chat members)",
    request: { params: chatIdParams, body: jsonBody(chatMemberBody) },
    responses: { 201: jsonContent(addChatMemberResponse, "Added (idempotent).") },
  },
  ["forbidden", "not_found"],
);
const removeChatMemberRoute = authedRoute(
  {
    method: "delete",
    path: "/{chatId}/members",
    tags,
    summary: "Remove a member from the chat (themself, the chat's creator or an org admin)",
    request: { params: chatIdParams, body: jsonBody(chatMemberBody) },
    responses: { 200: jsonContent(removeChatMemberResponse, "Removed; their sockets close with 4003.") },
  },
  ["forbidden", "not_found"],
);

export const orgChatRoutes = router()
  .openapi(listChatsRoute, async function listChats(c) {
    const { userId } = c.var.caller;
    const { orgId } = await requireOrgMember(c.var.db, c.req.valid("param").orgId, userId);
    const withArchived = c.req.valid("query").include === "archived";
    const rows = await c.var.db
      .select({
        id: chats.id,
        title: chats.title,
        createdBy: chats.createdBy,
        createdAt: chats.createdAt,
        archivedAt: chats.archivedAt,
        lastSeq: chats.lastSeq,
        lastActivityAt: chats.lastActivityAt,
        readSeq: chatMemberships.readSeq,
      })
      .from(chatMemberships)
      .innerJoin(chats, eq(chats.id, chatMemberships.chatId))
      .where(
        and(
          eq(chatMemberships.orgId, orgId),
          eq(chatMemberships.userId, userId),
          isNull(chats.deletedAt),
          withArchived ? undefined : isNull(chats.archivedAt),
        ),
      )
      .orderBy(desc(chats.createdAt));
    return c.json(
      {
        chats: rows.map(({ archivedAt, lastActivityAt, readSeq, ...row }) => ({
          ...row,
          createdAt: row.createdAt.toISOString(),
          archived: archivedAt !== null,
          lastActivityAt: (lastActivityAt ?? row.createdAt).toISOString(),
          unread: Math.max(0, row.lastSeq - readSeq),
        })),
      },
      200,
    );
  })
  .openapi(createChatRoute, async function createChat(c) {
    const { userId } = c.var.caller;
    const { orgId } = await requireOrgMember(c.var.db, c.req.valid("param").orgId, userId);
    const { title } = c.req.valid("json");
    const id = await c.var.db.transaction(async (tx) => {
      const [chat] = await tx.insert(chats).values({ orgId, title, createdBy: userId }).returning({ id: chats.id });
      await tx.insert(chatMemberships).values({ chatId: chat.id, orgId, userId });
      await c.var.audit.record(tx, {
        orgId,
        actor: { type: "user", id: userId },
        action: "chat.created",
        target: `chat:${chat.id}`,
      });
      return chat.id;
    });
    // The room would also learn this on first use; activating now makes a misrouted room fail loudly at once. It
    // gets the org's billing with it: later changes are pushed to the rooms that exist.
    const { room: billing } = await readBilling(c.var.db, c.env, orgId);
    await activateRoom(c.env, { chatId: id, orgId }, billing);
    return c.json({ id }, 201);
  });

export const chatMemberRoutes = router()
  .openapi(listChatMembersRoute, async function listChatMembers(c) {
    const { chat } = await requireChatMember(c.var.db, c.req.valid("param").chatId, c.var.caller.userId);
    const members = await c.var.db
      .select({ userId: chatMemberships.userId, name: users.name })
      .from(chatMemberships)
      .innerJoin(users, eq(users.id, chatMemberships.userId))
      .where(eq(chatMemberships.chatId, chat.id))
      .orderBy(asc(chatMemberships.createdAt));
    return c.json({ members }, 200);
  })
  .openapi(addChatMemberRoute, async function addChatMember(c) {
    const { chat } = await requireChatMember(c.var.db, c.req.valid("param").chatId, c.var.caller.userId);
    const { userId } = c.req.valid("json");
    const [orgMember] = await c.var.db
      .select({ userId: orgMemberships.userId })
      .from(orgMemberships)
      .where(and(eq(orgMemberships.orgId, chat.orgId), eq(orgMemberships.userId, userId)));
    if (!orgMember) throw badRequest("only members of the chat's org can be added to it");
    await c.var.db.transaction(async (tx) => {
      const added = await tx
        .insert(chatMemberships)
        .values({ chatId: chat.id, orgId: chat.orgId, userId })
        .onConflictDoNothing()
        .returning({ userId: chatMemberships.userId });
      if (added.length === 0) return;
      await c.var.audit.record(tx, {
        orgId: chat.orgId,
        actor: { type: "user", id: c.var.caller.userId },
        action: "chat.member_added",
        target: `user:${userId} chat:${chat.id}`,
      });
    });
    await admitToRoom(c.env, chat.id, userId);
    return c.json({ member: { userId } }, 201);
  })
  .openapi(removeChatMemberRoute, async function removeChatMember(c) {
    const caller = c.var.caller.userId;
    const { chat, orgRole, isMember } = await requireChatInOrg(c.var.db, c.req.valid("param").chatId, caller);
    const { userId } = c.req.valid("json");
    // Anyone may leave (again, if a first attempt failed half-way); removing someone else takes the chat's
    // creator or an org admin who is in the chat.
    if (userId !== caller && !(isMember && (chat.createdBy === caller || orgRole === "admin"))) {
      throw forbidden("only the chat's creator or an org admin may remove other members");
    }
    await c.var.db.transaction(async (tx) => {
      const removed = await tx
        .delete(chatMemberships)
        .where(and(eq(chatMemberships.chatId, chat.id), eq(chatMemberships.userId, userId)))
        .returning({ userId: chatMemberships.userId });
      await queueRevocations(tx, userId, [chat.id]);
      if (removed.length > 0) {
        await c.var.audit.record(tx, {
          orgId: chat.orgId,
          actor: { type: "user", id: caller },
          action: "chat.member_removed",
          target: `user:${userId} chat:${chat.id}`,
        });
      }
    });
    const { failed } = await deliverRevocations(
      c.env,
      c.var.db,
      and(eq(pendingRevocations.chatId, chat.id), eq(pendingRevocations.userId, userId)),
    );
    if (failed > 0) throw new Error("the chat's room could not be told yet; retry the request");
    return c.json({ removed: { userId } }, 200);
  });
