/**
 * `POST /api/webhooks/clerk`: Clerk's changes to users and org memberships, verified by their Standard Webhooks
 * signature and applied once per delivery id, in the same transaction that records the id.
 */
import { verifyWebhook, type WebhookEvent } from "@clerk/backend/webhooks";
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { parlorRole } from "../clerk";
import type { AppEnv } from "../context";
import { orgMemberships, orgs, processedWebhooks, users } from "../db/schema";
import { badRequest, notFound } from "../errors";
import { closeRoomsOf, deleteMembership, type Tx, upsertMembership } from "../memberships";
import { database } from "../middleware/database";

export const webhookRoutes = new Hono<AppEnv>().post("/clerk", database, async function receiveClerkWebhook(c) {
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
  const removals = await c.var.db.transaction(async (tx) => {
    const [fresh] = await tx
      .insert(processedWebhooks)
      .values({ id: deliveryId, source: "clerk", type: event.type })
      .onConflictDoNothing()
      .returning({ id: processedWebhooks.id });
    if (!fresh) return null;
    return applyClerkEvent(tx, event);
  });
  if (removals === null) return c.json({ received: true, duplicate: true });
  for (const removal of removals) await closeRoomsOf(c.env, removal.userId, removal.chatIds);
  return c.json({ received: true });
});

type Removal = { userId: string; chatIds: string[] };

async function applyClerkEvent(tx: Tx, event: WebhookEvent): Promise<Removal[]> {
  switch (event.type) {
    case "user.created":
    case "user.updated": {
      const { id, first_name, last_name, username } = event.data;
      const name = [first_name, last_name].filter(Boolean).join(" ") || username || id;
      await tx.insert(users).values({ id, name }).onConflictDoUpdate({ target: users.id, set: { name } });
      return [];
    }
    case "user.deleted": {
      const userId = event.data.id;
      if (!userId) return [];
      const memberships = await tx
        .select({ orgId: orgMemberships.orgId })
        .from(orgMemberships)
        .where(eq(orgMemberships.userId, userId));
      const removals: Removal[] = [];
      for (const { orgId } of memberships) {
        removals.push({ userId, chatIds: await deleteMembership(tx, orgId, userId, { mirroring: true }) });
      }
      return removals;
    }
    case "organizationMembership.created":
    case "organizationMembership.updated": {
      const orgId = await orgOfClerk(tx, event.data.organization.id);
      if (!orgId) return [];
      const user = event.data.public_user_data;
      const name = [user.first_name, user.last_name].filter(Boolean).join(" ") || user.identifier || user.user_id;
      const member = { userId: user.user_id, name, role: parlorRole(event.data.role) };
      await upsertMembership(tx, orgId, member, { mirroring: true });
      return [];
    }
    case "organizationMembership.deleted": {
      const orgId = await orgOfClerk(tx, event.data.organization.id);
      if (!orgId) return [];
      const userId = event.data.public_user_data.user_id;
      return [{ userId, chatIds: await deleteMembership(tx, orgId, userId, { mirroring: true }) }];
    }
    default:
      return [];
  }
}

async function orgOfClerk(tx: Tx, clerkOrgId: string): Promise<string | null> {
  const [org] = await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.clerkOrgId, clerkOrgId));
  return org?.id ?? null;
}
