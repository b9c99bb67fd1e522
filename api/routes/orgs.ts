/** Orgs and their members. The caller who creates an org becomes its admin. */
import { and, asc, eq, ilike, isNull, sql } from "drizzle-orm";
import type { Context } from "hono";
import { syncSeats } from "../../billing/seats";
import {
  addOrgMemberBody,
  addOrgMemberResponse,
  createdResponse,
  createOrgBody,
  orgIdParams,
  orgMembersResponse,
  orgsResponse,
  removeOrgMemberBody,
  removeOrgMemberResponse,
} from "../../protocol/orgs";
import { orgMembersQuery } from "../../protocol/people";
import { requireOrgAdmin, requireOrgMember } from "../access";
import { clerkDirectory, clerkRole } from "../clerk";
import type { AppEnv } from "../context";
import { chatMemberships, chats, orgMemberships, orgs, pendingRevocations, users } from "../db/schema";
import {
  deleteMembership,
  deliverRevocations,
  type MembershipAudit,
  refuseLastAdminLoss,
  saveMembership,
} from "../memberships";
import { authedRoute, jsonBody, jsonContent, router } from "../openapi";
import { ensureUser } from "./users";

const tags = ["orgs"];

const listMyOrgsRoute = authedRoute({
  method: "get",
  path: "/",
  tags,
  summary: "The caller's orgs",
  responses: {
    200: jsonContent(orgsResponse, "The orgs the caller is a member of, oldest first, each with the caller's unread."),
  },
});
const createOrgRoute = authedRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Create an org; the caller becomes its admin",
  request: { body: jsonBody(createOrgBody) },
  responses: { 201: jsonContent(createdResponse, "The new org's id.") },
});
const listMembersRoute = authedRoute(
  {
    method: "get",
    path: "/{orgId}/members",
    tags,
    summary: "The org's members",
    description: "`q` keeps those whose name contains it, in any case: only the org's own members are searched.",
    request: { params: orgIdParams, query: orgMembersQuery },
    responses: { 200: jsonContent(orgMembersResponse, "Members in the order they joined.") },
  },
  ["not_found"],
);
const addMemberRoute = authedRoute(
  {
    method: "post",
    path: "/{orgId}/members",
    tags,
    summary: "Add a member or set their role (org admins)",
    description: "In Clerk mode the change goes to Clerk and comes back with its webhook: 202 with `pending: true`.",
    request: { params: orgIdParams, body: jsonBody(addOrgMemberBody) },
    responses: {
      201: jsonContent(addOrgMemberResponse, "Added, or the role set."),
      202: jsonContent(addOrgMemberResponse, "Sent to Clerk; arrives with its webhook."),
    },
  },
  ["forbidden", "not_found", "conflict"],
);
const removeMemberRoute = authedRoute(
  {
    method: "delete",
    path: "/{orgId}/members",
    tags,
    summary: "Remove a member from the org and all its chats (org admins), or leave it yourself (any member)",
    description:
      "`userId` may be the caller's own: any member may leave. Removing someone else needs an org admin. " +
      "The last admin can neither leave nor be removed (409). In Clerk mode the change goes to Clerk: 202.",
    request: { params: orgIdParams, body: jsonBody(removeOrgMemberBody) },
    responses: {
      200: jsonContent(removeOrgMemberResponse, "Removed; their sockets in the org's chats are closed."),
      202: jsonContent(removeOrgMemberResponse, "Sent to Clerk; arrives with its webhook."),
    },
  },
  ["forbidden", "not_found", "conflict"],
);

export const orgRoutes = router()
  .openapi(listMyOrgsRoute, async function listMyOrgs(c) {
    const { userId } = c.var.caller;
    // One statement for every org: the caller's unread summed per org in a subquery, not a query per org.
    const unreadByOrg = c.var.db
      .select({
        orgId: chatMemberships.orgId,
        unread: sql<number>`sum(greatest(${chats.lastSeq} - ${chatMemberships.readSeq}, 0))::int`.as("unread"),
      })
      .from(chatMemberships)
      .innerJoin(chats, and(eq(chats.id, chatMemberships.chatId), isNull(chats.deletedAt), isNull(chats.archivedAt)))
      .where(eq(chatMemberships.userId, userId))
      .groupBy(chatMemberships.orgId)
      .as("unread_by_org");
    const rows = await c.var.db
      .select({
        id: orgs.id,
        name: orgs.name,
        role: orgMemberships.role,
        createdAt: orgs.createdAt,
        unread: sql<number>`coalesce(${unreadByOrg.unread}, 0)`.mapWith(Number),
      })
      .from(orgMemberships)
      .innerJoin(orgs, and(eq(orgs.id, orgMemberships.orgId), isNull(orgs.deletedAt)))
      .leftJoin(unreadByOrg, eq(unreadByOrg.orgId, orgs.id))
      .where(eq(orgMemberships.userId, userId))
      .orderBy(asc(orgs.createdAt));
    return c.json({ orgs: rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() })) }, 200);
  })
  .openapi(createOrgRoute, async function createOrg(c) {
    const { name } = c.req.valid("json");
    const { userId } = c.var.caller;
    const clerk = clerkDirectory(c.env);
    // The Parlor row first: Clerk gets its id as metadata, so its webhook matches this row even if it arrives
    // before Clerk's id is stored here.
    const id = await c.var.db.transaction(async (tx) => {
      await ensureUser(tx, c.var.caller);
      const [org] = await tx.insert(orgs).values({ name, createdBy: userId }).returning({ id: orgs.id });
      // The creator is an admin at once; Clerk's webhook for the same membership later changes nothing.
      await tx.insert(orgMemberships).values({ orgId: org.id, userId, role: "admin" });
      const actor = { type: "user" as const, id: userId };
      await c.var.audit.record(tx, { orgId: org.id, actor, action: "org.created", target: `org:${org.id}` });
      await c.var.audit.record(tx, {
        orgId: org.id,
        actor,
        action: "member.added",
        target: `user:${userId} role=admin`,
      });
      return org.id;
    });
    if (clerk) {
      let clerkOrgId: string;
      try {
        const created = await clerk.organizations.createOrganization({
          name,
          createdBy: userId,
          publicMetadata: { parlorOrgId: id },
        });
        clerkOrgId = created.id;
      } catch (error) {
        // No orphan on our side: Clerk has no organization for this row (memberships go with it, cascade).
        await c.var.db.delete(orgs).where(eq(orgs.id, id));
        throw error;
      }
      // An early webhook may have linked it already, with the same id.
      await c.var.db
        .update(orgs)
        .set({ clerkOrgId })
        .where(and(eq(orgs.id, id), isNull(orgs.clerkOrgId)));
    }
    return c.json({ id }, 201);
  })
  .openapi(listMembersRoute, async function listOrgMembers(c) {
    const { orgId } = await requireOrgMember(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    const members = await c.var.db
      .select({ userId: orgMemberships.userId, name: users.name, role: orgMemberships.role })
      .from(orgMemberships)
      .innerJoin(users, eq(users.id, orgMemberships.userId))
      .where(and(eq(orgMemberships.orgId, orgId), nameContains(c.req.valid("query").q)))
      .orderBy(asc(orgMemberships.createdAt));
    return c.json({ members }, 200);
  })
  .openapi(addMemberRoute, async function addOrgMember(c) {
    const { orgId } = await requireOrgAdmin(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    const { userId, role } = c.req.valid("json");
    const clerk = clerkDirectory(c.env);
    if (clerk) {
      const clerkOrgId = await clerkOrgOf(c.var.db, orgId);
      if (role === "member") await c.var.db.transaction((tx) => refuseLastAdminLoss(tx, orgId, userId));
      const existing = await memberRole(c.var.db, orgId, userId);
      const params = { organizationId: clerkOrgId, userId, role: clerkRole(role) };
      await (existing
        ? clerk.organizations.updateOrganizationMembership(params)
        : clerk.organizations.createOrganizationMembership(params));
      // Clerk's webhook brings the change back; until then it is pending.
      return c.json({ member: { userId, role }, pending: true as const }, 202);
    }
    await saveMembership(c.env, c.var.db, orgId, { userId, role }, auditAs(c));
    return c.json({ member: { userId, role } }, 201);
  })
  .openapi(removeMemberRoute, async function removeOrgMember(c) {
    const caller = c.var.caller.userId;
    const { userId } = c.req.valid("json");
    // Anyone may leave; removing someone else takes an admin.
    const { orgId } = await (userId === caller ? requireOrgMember : requireOrgAdmin)(
      c.var.db,
      c.req.valid("param").orgId,
      caller,
    );
    const clerk = clerkDirectory(c.env);
    if (clerk) {
      await c.var.db.transaction((tx) => refuseLastAdminLoss(tx, orgId, userId));
      await clerk.organizations.deleteOrganizationMembership({
        organizationId: await clerkOrgOf(c.var.db, orgId),
        userId,
      });
      return c.json({ removed: { userId }, pending: true as const }, 202);
    }
    const chatIds = await c.var.db.transaction((tx) => deleteMembership(tx, orgId, userId, { audit: auditAs(c) }));
    // Also delivers what an earlier, failed attempt left queued, so a retry of this request completes it.
    const { failed } = await deliverRevocations(c.env, c.var.db, eq(pendingRevocations.userId, userId));
    await syncSeats(c.env, c.var.db, orgId);
    if (failed > 0) throw new Error(`${failed} rooms could not be told yet; retry the request`);
    return c.json({ removed: { userId }, chats: chatIds }, 200);
  });

/** A name filter for `?q=` (LIKE's wildcards in it taken literally); none when empty. */
function nameContains(q: string | undefined) {
  if (!q) return undefined;
  return ilike(users.name, `%${q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`);
}

/** The caller as the actor of membership changes made through this API. */
function auditAs(c: Context<AppEnv>): MembershipAudit {
  return { actor: { type: "user", id: c.var.caller.userId }, record: c.var.audit.record };
}

export async function clerkOrgOf(db: AppEnv["Variables"]["db"], orgId: string): Promise<string> {
  const [org] = await db.select({ clerkOrgId: orgs.clerkOrgId }).from(orgs).where(eq(orgs.id, orgId));
  if (!org?.clerkOrgId) throw new Error(`org ${orgId} has no Clerk organization`);
  return org.clerkOrgId;
}

async function memberRole(db: AppEnv["Variables"]["db"], orgId: string, userId: string) {
  const [row] = await db
    .select({ role: orgMemberships.role })
    .from(orgMemberships)
    .where(and(eq(orgMemberships.orgId, orgId), eq(orgMemberships.userId, userId)));
  return row?.role ?? null;
}
