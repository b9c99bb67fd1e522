/**
 * Renaming, archiving, deleting (and restoring within the grace period) a chat; renaming an org. Postgres is changed
 * first, with its audit entry; then the chat's room is told, so open sockets hear it and an archived or deleted
 * room refuses what it must without asking Postgres.
 */
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import {
  chatResponse,
  deleteChatResponse,
  orgResponse,
  renameOrgBody,
  updateChatBody,
} from "../../protocol/chat-lifecycle";
import { chatIdParams, orgIdParams } from "../../protocol/orgs";
import { isUuid, requireChatInOrg, requireOrgAdmin } from "../access";
import { clerkDirectory } from "../clerk";
import type { AppEnv } from "../context";
import { type ChatLifecycle, lifecycleColumns, lifecycleOf } from "../db/chat-lifecycle";
import { chats, orgMemberships, orgs } from "../db/schema";
import { conflict, forbidden, notFound } from "../errors";
import { authedRoute, jsonBody, jsonContent, router } from "../openapi";
import { pushLifecycle } from "../orchestrator";

const DEFAULT_GRACE_DAYS = 30;
const DAY_MS = 86_400_000;

/** `PARLOR_CHAT_DELETE_GRACE_DAYS`: how long a deleted chat can still be restored; fractions of a day allowed. */
export function deleteGraceMs(env: Env): number {
  const days = Number(env.PARLOR_CHAT_DELETE_GRACE_DAYS);
  const valid = env.PARLOR_CHAT_DELETE_GRACE_DAYS !== undefined && Number.isFinite(days) && days >= 0;
  return Math.round((valid ? days : DEFAULT_GRACE_DAYS) * DAY_MS);
}

const updateChatRoute = authedRoute(
  {
    method: "patch",
    path: "/{chatId}",
    tags: ["chats"],
    summary: "Rename, archive or unarchive a chat (its creator, or an org admin)",
    description:
      "Only the fields sent change. An archived chat is read-only (new messages and retries: 409) and is left out " +
      "of `GET /api/orgs/:orgId/chats` unless `include=archived`. Open sockets get a `chat.updated` event.",
    request: { params: chatIdParams, body: jsonBody(updateChatBody) },
    responses: { 200: jsonContent(chatResponse, "The chat as it is now.") },
  },
  ["forbidden", "not_found"],
);
const deleteChatRoute = authedRoute(
  {
    method: "delete",
    path: "/{chatId}",
    tags: ["chats"],
    summary: "Delete a chat (org admins): a tombstone until `purgeAt`, then gone",
    description:
      "From now on the chat answers 404 to everyone (REST, sockets, tickets) and leaves every chat list; its open " +
      "sockets close with code 4004. At `purgeAt` (`PARLOR_CHAT_DELETE_GRACE_DAYS`, default 30 days) its room " +
      "storage, its backups and its rows are deleted. Deleting it again answers the same tombstone.",
    request: { params: chatIdParams },
    responses: { 200: jsonContent(deleteChatResponse, "Deleted; restorable until `purgeAt`.") },
  },
  ["forbidden", "not_found"],
);
const restoreDeletedRoute = authedRoute(
  {
    method: "post",
    path: "/{chatId}/restore-deleted",
    tags: ["chats"],
    summary: "Undo a chat's deletion before it is purged (org admins)",
    description: "Once `purgeAt` has passed the chat is gone (404), even while its room's purge has yet to run.",
    request: { params: chatIdParams },
    responses: { 200: jsonContent(chatResponse, "The chat, back as it was.") },
  },
  ["forbidden", "not_found", "conflict"],
);
const renameOrgRoute = authedRoute(
  {
    method: "patch",
    path: "/{orgId}",
    tags: ["orgs"],
    summary: "Rename an org (org admins)",
    description: "In Clerk mode the organization is renamed in Clerk first.",
    request: { params: orgIdParams, body: jsonBody(renameOrgBody) },
    responses: { 200: jsonContent(orgResponse, "The org as it is now.") },
  },
  ["forbidden", "not_found"],
);

const chatColumns = {
  ...lifecycleColumns,
  id: chats.id,
  orgId: chats.orgId,
  createdBy: chats.createdBy,
  createdAt: chats.createdAt,
};
type ChatRow = { id: string; title: string; createdBy: string; createdAt: Date; archivedAt: Date | null };

function chatOf(row: ChatRow) {
  const { id, title, createdBy, createdAt, archivedAt } = row;
  return { id, title, createdBy, createdAt: createdAt.toISOString(), archived: archivedAt !== null };
}

export const chatLifecycleRoutes = router()
  .openapi(updateChatRoute, async function updateChat(c) {
    const caller = c.var.caller.userId;
    const { chat, orgRole, isMember } = await requireChatInOrg(c.var.db, c.req.valid("param").chatId, caller);
    if (orgRole !== "admin" && !(isMember && chat.createdBy === caller)) {
      throw forbidden("only the chat's creator or an org admin may rename or archive it");
    }
    const { title, archived } = c.req.valid("json");
    const row = await c.var.db.transaction(async (tx) => {
      const [before] = await tx.select(chatColumns).from(chats).where(eq(chats.id, chat.id)).for("update");
      if (!before || before.deletedAt) throw notFound("chat not found");
      const renamed = title !== undefined && title !== before.title;
      const archiving = archived !== undefined && archived !== (before.archivedAt !== null);
      const [after] = await tx
        .update(chats)
        .set({
          ...(renamed ? { title } : {}),
          ...(archiving ? { archivedAt: archived ? new Date() : null } : {}),
          revision: sql`${chats.revision} + 1`,
        })
        .where(eq(chats.id, chat.id))
        .returning(chatColumns);
      const audit = { orgId: chat.orgId, actor: { type: "user" as const, id: caller }, target: `chat:${chat.id}` };
      if (renamed) await c.var.audit.record(tx, { ...audit, action: "chat.renamed" });
      if (archiving) await c.var.audit.record(tx, { ...audit, action: archived ? "chat.archived" : "chat.unarchived" });
      return after;
    });
    await pushLifecycle(c.env, { chatId: chat.id, orgId: chat.orgId }, lifecycleOf(row));
    return c.json({ chat: chatOf(row) }, 200);
  })
  .openapi(deleteChatRoute, async function deleteChat(c) {
    const caller = c.var.caller.userId;
    const target = await requireChatForAdmin(c.var.db, c.req.valid("param").chatId, caller);
    let lifecycle: ChatLifecycle = target.lifecycle;
    if (!lifecycle.deleted) {
      lifecycle = await c.var.db.transaction(async (tx) => {
        const now = new Date();
        const purgeAt = new Date(now.getTime() + deleteGraceMs(c.env));
        const [row] = await tx
          .update(chats)
          .set({ deletedAt: now, deletedBy: caller, purgeAt, revision: sql`${chats.revision} + 1` })
          .where(and(eq(chats.id, target.id), isNull(chats.deletedAt)))
          .returning(lifecycleColumns);
        // A concurrent delete won: answer its tombstone.
        if (!row) return lifecycleOf((await tx.select(lifecycleColumns).from(chats).where(eq(chats.id, target.id)))[0]);
        await c.var.audit.record(tx, {
          orgId: target.orgId,
          actor: { type: "user", id: caller },
          action: "chat.deleted",
          target: `chat:${target.id} purge_at=${purgeAt.toISOString()}`,
        });
        return lifecycleOf(row);
      });
    }
    // Told again on a repeat, so a room a first attempt could not reach closes its sockets now.
    await pushLifecycle(c.env, { chatId: target.id, orgId: target.orgId }, lifecycle);
    const deleted = lifecycle.deleted;
    if (!deleted) throw conflict("the chat was restored meanwhile");
    return c.json(
      {
        deleted: {
          chatId: target.id,
          deletedAt: new Date(deleted.deletedAt).toISOString(),
          purgeAt: new Date(deleted.purgeAt).toISOString(),
        },
      },
      200,
    );
  })
  .openapi(restoreDeletedRoute, async function restoreDeletedChat(c) {
    const caller = c.var.caller.userId;
    const target = await requireChatForAdmin(c.var.db, c.req.valid("param").chatId, caller);
    if (!target.lifecycle.deleted) throw conflict("this chat is not deleted");
    // Past its grace the chat is gone, even while its room's purge alarm has yet to run.
    const now = new Date();
    if (target.lifecycle.deleted.purgeAt <= now.getTime()) throw notFound("chat not found");
    const row = await c.var.db.transaction(async (tx) => {
      const [after] = await tx
        .update(chats)
        .set({ deletedAt: null, deletedBy: null, purgeAt: null, revision: sql`${chats.revision} + 1` })
        .where(and(eq(chats.id, target.id), sql`${chats.deletedAt} IS NOT NULL`, gt(chats.purgeAt, now)))
        .returning(chatColumns);
      if (!after) {
        // Restored by a concurrent request (409), or its grace ran out since the check above (gone).
        if (Date.now() >= (target.lifecycle.deleted?.purgeAt ?? 0)) throw notFound("chat not found");
        throw conflict("this chat is not deleted");
      }
      await c.var.audit.record(tx, {
        orgId: target.orgId,
        actor: { type: "user", id: caller },
        action: "chat.undeleted",
        target: `chat:${target.id}`,
      });
      return after;
    });
    await pushLifecycle(c.env, { chatId: target.id, orgId: target.orgId }, lifecycleOf(row));
    return c.json({ chat: chatOf(row) }, 200);
  });

export const orgRenameRoutes = router().openapi(renameOrgRoute, async function renameOrg(c) {
  const caller = c.var.caller.userId;
  const { orgId, role } = await requireOrgAdmin(c.var.db, c.req.valid("param").orgId, caller);
  const { name } = c.req.valid("json");
  const clerk = clerkDirectory(c.env);
  if (clerk) {
    const [linked] = await c.var.db.select({ clerkOrgId: orgs.clerkOrgId }).from(orgs).where(eq(orgs.id, orgId));
    if (linked?.clerkOrgId) await clerk.organizations.updateOrganization(linked.clerkOrgId, { name });
  }
  const org = await c.var.db.transaction(async (tx) => {
    const [row] = await tx
      .update(orgs)
      .set({ name })
      .where(eq(orgs.id, orgId))
      .returning({ id: orgs.id, name: orgs.name, createdAt: orgs.createdAt });
    await c.var.audit.record(tx, {
      orgId,
      actor: { type: "user", id: caller },
      action: "org.renamed",
      target: `org:${orgId}`,
    });
    return row;
  });
  return c.json({ org: { ...org, role, createdAt: org.createdAt.toISOString() } }, 200);
});

/**
 * The chat for an org admin, deleted or not (only admins can see a tombstone, to restore it). Anyone else: 404 for
 * a deleted chat, 403 for a live one.
 */
async function requireChatForAdmin(db: AppEnv["Variables"]["db"], chatId: string, userId: string) {
  if (!isUuid(chatId)) throw notFound("chat not found");
  const [row] = await db
    .select({ ...lifecycleColumns, id: chats.id, orgId: chats.orgId, role: orgMemberships.role })
    .from(chats)
    .innerJoin(orgs, and(eq(orgs.id, chats.orgId), isNull(orgs.deletedAt)))
    .innerJoin(orgMemberships, and(eq(orgMemberships.orgId, chats.orgId), eq(orgMemberships.userId, userId)))
    .where(eq(chats.id, chatId));
  if (!row) throw notFound("chat not found");
  if (row.role !== "admin") {
    throw row.deletedAt ? notFound("chat not found") : forbidden("only org admins may delete or restore a chat");
  }
  return { id: row.id, orgId: row.orgId, lifecycle: lifecycleOf(row) };
}
