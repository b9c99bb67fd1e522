/** Who may do what: membership checks against Postgres, each answering with the contract's 403 or 404. */
import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "./db/client";
import { chatMemberships, chats, type OrgRole, orgMemberships, orgs, users } from "./db/schema";
import { forbidden, notFound } from "./errors";

export type OrgAccess = { orgId: string; role: OrgRole };

/** Not a member of the org, or the org is deleted (a tombstone): 404, so an org's existence does not leak. */
export async function requireOrgMember(db: Database, orgId: string, userId: string): Promise<OrgAccess> {
  if (!isUuid(orgId)) throw notFound("org not found");
  const [membership] = await db
    .select({ role: orgMemberships.role })
    .from(orgMemberships)
    .innerJoin(orgs, and(eq(orgs.id, orgMemberships.orgId), isNull(orgs.deletedAt)))
    .where(and(eq(orgMemberships.orgId, orgId), eq(orgMemberships.userId, userId)));
  if (!membership) throw notFound("org not found");
  return { orgId, role: membership.role };
}

export async function requireOrgAdmin(db: Database, orgId: string, userId: string): Promise<OrgAccess> {
  const access = await requireOrgMember(db, orgId, userId);
  if (access.role !== "admin") throw forbidden("only org admins may do this");
  return access;
}

export type ChatAccess = {
  chat: { id: string; orgId: string; title: string; createdBy: string };
  orgRole: OrgRole;
  /** The caller's display name as Postgres knows it, for the room's record of who said what. */
  name: string;
};

/**
 * The caller must be a member of the chat. Outside its org, or once the org is deleted, the chat does not exist (404);
 * an org member who was not added to it is refused (403).
 */
export async function requireChatMember(db: Database, chatId: string, userId: string): Promise<ChatAccess> {
  const access = await requireChatInOrg(db, chatId, userId);
  if (!access.isMember) throw forbidden("you are not a member of this chat");
  return access;
}

/** The chat, seen by a member of its org who may or may not be in the chat itself. */
export async function requireChatInOrg(
  db: Database,
  chatId: string,
  userId: string,
): Promise<ChatAccess & { isMember: boolean }> {
  if (!isUuid(chatId)) throw notFound("chat not found");
  const [row] = await db
    .select({
      chat: { id: chats.id, orgId: chats.orgId, title: chats.title, createdBy: chats.createdBy },
      orgRole: orgMemberships.role,
      chatMember: chatMemberships.userId,
      name: users.name,
    })
    .from(chats)
    .innerJoin(orgs, and(eq(orgs.id, chats.orgId), isNull(orgs.deletedAt)))
    .innerJoin(orgMemberships, and(eq(orgMemberships.orgId, chats.orgId), eq(orgMemberships.userId, userId)))
    .innerJoin(users, eq(users.id, userId))
    .leftJoin(chatMemberships, and(eq(chatMemberships.chatId, chats.id), eq(chatMemberships.userId, userId)))
    // A deleted chat (a tombstone until it is purged) is gone for everyone at once.
    .where(and(eq(chats.id, chatId), isNull(chats.deletedAt)));
  if (!row) throw notFound("chat not found");
  return { chat: row.chat, orgRole: row.orgRole, name: row.name, isMember: row.chatMember !== null };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids in paths are UUIDs; anything else cannot name a row, and must not reach Postgres as a type error. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
