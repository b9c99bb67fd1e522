/**
 * `POST /api/orgs/:orgId/invitations`: bring a person into an org. Under Clerk (production) an email invitation
 * through Clerk's organization invitations: the membership arrives with Clerk's webhook once it is accepted. In
 * development there is no email: a development user is made from the name and added at once; they sign in with
 * the user id the answer gives.
 */
import { and, eq } from "drizzle-orm";
import { orgIdParams } from "../../protocol/orgs";
import { invitationBody, invitationResponse } from "../../protocol/people";
import { requireOrgAdmin } from "../access";
import { clerkDirectory, clerkRole } from "../clerk";
import { orgMemberships, users } from "../db/schema";
import { badRequest, conflict } from "../errors";
import { saveMembership } from "../memberships";
import { authedRoute, jsonBody, jsonContent, router } from "../openapi";
import { clerkOrgOf } from "./orgs";

const inviteRoute = authedRoute(
  {
    method: "post",
    path: "/{orgId}/invitations",
    tags: ["orgs"],
    summary: "Invite a person to the org (org admins)",
    description:
      "Clerk mode: `email` is required; Clerk emails an invitation and the membership arrives with its webhook " +
      "(202). Development: `name` (or the part of `email` before `@`) names a development user, whose id is the " +
      "name lowercased with anything but a-z 0-9 _ - as `-`; they are added at once (201). 409 if already a member.",
    request: { params: orgIdParams, body: jsonBody(invitationBody) },
    responses: {
      201: jsonContent(invitationResponse, "Development: the user was added to the org."),
      202: jsonContent(invitationResponse, "Clerk mode: the invitation was sent."),
    },
  },
  ["forbidden", "not_found", "conflict"],
);

/** A development user's id from their name: `Bob Stone` → `bob-stone`. */
export function devUserIdFor(name: string): string {
  const id = name
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64);
  if (!id) throw badRequest("name: needs at least one letter or digit a-z 0-9");
  return id;
}

export const invitationRoutes = router().openapi(inviteRoute, async function invite(c) {
  const { orgId } = await requireOrgAdmin(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
  const { email, name, role } = c.req.valid("json");
  const actor = { type: "user" as const, id: c.var.caller.userId };
  const clerk = clerkDirectory(c.env);
  if (clerk) {
    if (!email) throw badRequest("email: Clerk invites people by email");
    const invitation = await clerk.organizations.createOrganizationInvitation({
      organizationId: await clerkOrgOf(c.var.db, orgId),
      emailAddress: email,
      role: clerkRole(role),
      inviterUserId: c.var.caller.userId,
    });
    await c.var.db.transaction((tx) =>
      c.var.audit.record(tx, { orgId, actor, action: "member.invited", target: `email:${email} role=${role}` }),
    );
    const shown = { id: invitation.id, email, userId: null, name: null, role, status: "pending" as const };
    return c.json({ invitation: shown }, 202);
  }
  const displayName = name ?? (email as string).split("@")[0];
  const userId = devUserIdFor(displayName);
  const audit = { actor, record: c.var.audit.record };
  await saveMembership(c.env, c.var.db, orgId, { userId, role }, audit, async (tx) => {
    const [existing] = await tx
      .select({ role: orgMemberships.role })
      .from(orgMemberships)
      .where(and(eq(orgMemberships.orgId, orgId), eq(orgMemberships.userId, userId)));
    if (existing) throw conflict(`${userId} is already a member of this org`);
    // An existing development user keeps the name they signed in with.
    await tx.insert(users).values({ id: userId, name: displayName }).onConflictDoNothing();
  });
  const [user] = await c.var.db.select({ name: users.name }).from(users).where(eq(users.id, userId));
  const shown = {
    id: null,
    email: email ?? null,
    userId,
    name: user?.name ?? displayName,
    role,
    status: "added" as const,
  };
  return c.json({ invitation: shown }, 201);
});
