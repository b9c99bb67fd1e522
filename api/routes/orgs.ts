/** Orgs and their members. The caller who creates an org becomes its admin. */
import { zValidator } from "@hono/zod-validator";
import { and, asc, eq } from "drizzle-orm";
import { Hono } from "hono";
import { addOrgMemberBody, createOrgBody, removeOrgMemberBody } from "../../protocol/chat";
import { requireOrgAdmin, requireOrgMember } from "../access";
import type { AppEnv } from "../context";
import { chatMemberships, orgMemberships, orgs, users } from "../db/schema";
import { conflict } from "../errors";
import { removeFromRoom } from "../orchestrator";
import { validationHook } from "../validation";
import { ensureUser } from "./users";

export const orgRoutes = new Hono<AppEnv>()
  .get("/", async function listMyOrgs(c) {
    const rows = await c.var.db
      .select({ id: orgs.id, name: orgs.name, role: orgMemberships.role, createdAt: orgs.createdAt })
      .from(orgMemberships)
      .innerJoin(orgs, eq(orgs.id, orgMemberships.orgId))
      .where(eq(orgMemberships.userId, c.var.caller.userId))
      .orderBy(asc(orgs.createdAt));
    return c.json({ orgs: rows });
  })
  .post("/", zValidator("json", createOrgBody, validationHook), async function createOrg(c) {
    const { name } = c.req.valid("json");
    const { userId } = c.var.caller;
    const id = await c.var.db.transaction(async (tx) => {
      await ensureUser(tx, c.var.caller);
      const [org] = await tx.insert(orgs).values({ name, createdBy: userId }).returning({ id: orgs.id });
      await tx.insert(orgMemberships).values({ orgId: org.id, userId, role: "admin" });
      return org.id;
    });
    return c.json({ id }, 201);
  })
  .get("/:orgId/members", async function listOrgMembers(c) {
    const { orgId } = await requireOrgMember(c.var.db, c.req.param("orgId"), c.var.caller.userId);
    const members = await c.var.db
      .select({ userId: orgMemberships.userId, name: users.name, role: orgMemberships.role })
      .from(orgMemberships)
      .innerJoin(users, eq(users.id, orgMemberships.userId))
      .where(eq(orgMemberships.orgId, orgId))
      .orderBy(asc(orgMemberships.createdAt));
    return c.json({ members });
  })
  .post("/:orgId/members", zValidator("json", addOrgMemberBody, validationHook), async function addOrgMember(c) {
    const { orgId } = await requireOrgAdmin(c.var.db, c.req.param("orgId"), c.var.caller.userId);
    const { userId, role } = c.req.valid("json");
    // Development writes the membership directly; with Clerk in production its webhook delivers the same write.
    const member = await c.var.db.transaction(async (tx) => {
      await tx.insert(users).values({ id: userId, name: userId }).onConflictDoNothing();
      if (role === "member") await refuseLastAdminLoss(tx, orgId, userId);
      const [row] = await tx
        .insert(orgMemberships)
        .values({ orgId, userId, role })
        .onConflictDoUpdate({ target: [orgMemberships.orgId, orgMemberships.userId], set: { role } })
        .returning({ userId: orgMemberships.userId, role: orgMemberships.role });
      return row;
    });
    return c.json({ member }, 201);
  })
  .delete(
    "/:orgId/members",
    zValidator("json", removeOrgMemberBody, validationHook),
    async function removeOrgMember(c) {
      const { orgId } = await requireOrgAdmin(c.var.db, c.req.param("orgId"), c.var.caller.userId);
      const { userId } = c.req.valid("json");
      const chatIds = await c.var.db.transaction(async (tx) => {
        await refuseLastAdminLoss(tx, orgId, userId);
        const chats = await tx
          .select({ chatId: chatMemberships.chatId })
          .from(chatMemberships)
          .where(and(eq(chatMemberships.orgId, orgId), eq(chatMemberships.userId, userId)));
        // Chat memberships go with the org membership (composite foreign key, on delete cascade).
        await tx.delete(orgMemberships).where(and(eq(orgMemberships.orgId, orgId), eq(orgMemberships.userId, userId)));
        return chats.map((row) => row.chatId);
      });
      await Promise.all(chatIds.map((chatId) => removeFromRoom(c.env, chatId, userId)));
      return c.json({ removed: { userId }, chats: chatIds });
    },
  );

type Tx = Parameters<Parameters<AppEnv["Variables"]["db"]["transaction"]>[0]>[0];

/** An org always keeps an admin: the last one can neither leave nor be demoted. */
async function refuseLastAdminLoss(tx: Tx, orgId: string, userId: string): Promise<void> {
  const admins = await tx
    .select({ userId: orgMemberships.userId })
    .from(orgMemberships)
    .where(and(eq(orgMemberships.orgId, orgId), eq(orgMemberships.role, "admin")))
    .for("update");
  if (admins.length === 1 && admins[0].userId === userId) throw conflict("an org must keep at least one admin");
}
