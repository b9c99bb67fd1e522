/**
 * `POST /api/webhooks/clerk`: Clerk's changes to users and org memberships, verified by their Standard Webhooks
 * signature and applied once per delivery id, in the same transaction that records the id. Deliveries may arrive
 * out of order: each membership remembers the timestamp of the event that last wrote it, and older events lose.
 */
import { verifyWebhook, type WebhookEvent } from "@clerk/backend/webhooks";
import { and, eq } from "drizzle-orm";
import { webhookReceivedResponse } from "../../protocol/operations";
import { parlorRole } from "../clerk";
import { clerkMembershipRemovals, orgMemberships, orgs, processedWebhooks, users } from "../db/schema";
import { badRequest, notFound } from "../errors";
import { announceRole, deleteMembership, deliverRevocations, type Tx, upsertMembership } from "../memberships";
import { database } from "../middleware/database";
import { jsonContent, publicRoute, router } from "../openapi";

const clerkWebhookRoute = publicRoute(
  {
    method: "post",
    path: "/clerk",
    tags: ["webhooks"],
    summary: "Clerk's webhook (Standard Webhooks signature; exists when CLERK_WEBHOOK_SIGNING_SECRET is set)",
    description:
      "The body is Clerk's event, verified against the `svix-id`, `svix-timestamp` and `svix-signature` headers " +
      "before it is read. Each delivery id is applied once.",
    middleware: [database] as const,
    responses: { 200: jsonContent(webhookReceivedResponse, "Applied, or a redelivery (`duplicate: true`).") },
  },
  ["bad_request", "not_found"],
);

export const webhookRoutes = router().openapi(clerkWebhookRoute, async function receiveClerkWebhook(c) {
  const secret = c.env.CLERK_WEBHOOK_SIGNING_SECRET;
  if (!secret) throw notFound("no such endpoint");
  let event: WebhookEvent;
  try {
    // The body was already read (strictly) by strictBody; verification gets the same bytes back.
    const request = new Request(c.req.url, { method: "POST", headers: c.req.raw.headers, body: await c.req.text() });
    event = await verifyWebhook(request, { signingSecret: secret });
  } catch {
    throw badRequest("webhook signature is not valid");
  }
  const deliveryId = c.req.header("svix-id") ?? "";
  const applied = await c.var.db.transaction(async (tx) => {
    const [fresh] = await tx
      .insert(processedWebhooks)
      .values({ id: deliveryId, source: "clerk", type: event.type })
      .onConflictDoNothing()
      .returning({ id: processedWebhooks.id });
    if (!fresh) return false;
    await applyClerkEvent(tx, event);
    return true;
  });
  if (applied && (event.type === "organizationMembership.created" || event.type === "organizationMembership.updated")) {
    const orgId = await orgOfClerk(c.var.db, event.data.organization.id);
    if (orgId) await announceRole(c.env, c.var.db, orgId, event.data.public_user_data.user_id);
  }
  // Removals queue revocations in the transaction; delivering them here (on redeliveries too) finishes what a
  // failed earlier attempt left, and a failure now makes Clerk retry.
  const { failed } = await deliverRevocations(c.env, c.var.db);
  if (failed > 0) throw new Error(`${failed} rooms could not be told yet`);
  return c.json(applied ? { received: true as const } : { received: true as const, duplicate: true as const }, 200);
});

async function applyClerkEvent(tx: Tx, event: WebhookEvent): Promise<void> {
  switch (event.type) {
    case "user.created":
    case "user.updated": {
      const { id, first_name, last_name, username } = event.data;
      const name = [first_name, last_name].filter(Boolean).join(" ") || username || id;
      await tx.insert(users).values({ id, name }).onConflictDoUpdate({ target: users.id, set: { name } });
      return;
    }
    case "user.deleted": {
      const userId = event.data.id;
      if (!userId) return;
      const memberships = await tx
        .select({ orgId: orgMemberships.orgId })
        .from(orgMemberships)
        .where(eq(orgMemberships.userId, userId));
      for (const { orgId } of memberships) await deleteMembership(tx, orgId, userId, { mirroring: true });
      return;
    }
    case "organizationMembership.created":
    case "organizationMembership.updated": {
      const orgId = await orgOfClerk(tx, event.data.organization.id);
      if (!orgId) return;
      const user = event.data.public_user_data;
      const version = event.timestamp;
      const current = await versionOf(tx, orgId, user.user_id);
      if (current.removedAt !== null && current.removedAt >= version) return;
      if (current.row === "absent" && event.type === "organizationMembership.updated") return;
      if (current.row !== "absent" && current.row !== null && current.row >= version) return;
      const name = [user.first_name, user.last_name].filter(Boolean).join(" ") || user.identifier || user.user_id;
      await upsertMembership(
        tx,
        orgId,
        { userId: user.user_id, name, role: parlorRole(event.data.role) },
        { mirroring: true },
      );
      await tx
        .update(orgMemberships)
        .set({ clerkVersion: version })
        .where(and(eq(orgMemberships.orgId, orgId), eq(orgMemberships.userId, user.user_id)));
      return;
    }
    case "organizationMembership.deleted": {
      const orgId = await orgOfClerk(tx, event.data.organization.id);
      if (!orgId) return;
      const userId = event.data.public_user_data.user_id;
      const version = event.timestamp;
      const current = await versionOf(tx, orgId, userId);
      if (current.row !== "absent" && current.row !== null && current.row > version) return;
      await tx
        .insert(clerkMembershipRemovals)
        .values({ orgId, userId, clerkVersion: version })
        .onConflictDoUpdate({
          target: [clerkMembershipRemovals.orgId, clerkMembershipRemovals.userId],
          set: { clerkVersion: version },
        });
      if (current.row !== "absent") await deleteMembership(tx, orgId, userId, { mirroring: true });
      return;
    }
    default:
      return;
  }
}

/** The version of a membership row ("absent" when there is none) and of its last recorded removal. */
async function versionOf(
  tx: Tx,
  orgId: string,
  userId: string,
): Promise<{ row: number | null | "absent"; removedAt: number | null }> {
  const [row] = await tx
    .select({ version: orgMemberships.clerkVersion })
    .from(orgMemberships)
    .where(and(eq(orgMemberships.orgId, orgId), eq(orgMemberships.userId, userId)))
    .for("update");
  const [removal] = await tx
    .select({ version: clerkMembershipRemovals.clerkVersion })
    .from(clerkMembershipRemovals)
    .where(and(eq(clerkMembershipRemovals.orgId, orgId), eq(clerkMembershipRemovals.userId, userId)));
  return { row: row ? row.version : "absent", removedAt: removal?.version ?? null };
}

async function orgOfClerk(tx: Pick<Tx, "select">, clerkOrgId: string): Promise<string | null> {
  const [org] = await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.clerkOrgId, clerkOrgId));
  return org?.id ?? null;
}
