/**
 * `POST /api/webhooks/clerk`: Clerk's changes to users and org memberships, verified by their Standard Webhooks
 * signature and applied once per delivery id, in the same transaction that records the id. Deliveries may arrive
 * out of order: each membership, and each org, remembers the timestamp of the event that last wrote it, and older
 * events lose. An org Clerk deletes becomes a tombstone: hidden from everyone, its open sockets closed.
 */
import type { OrganizationJSON } from "@clerk/backend";
import { verifyWebhook, type WebhookEvent } from "@clerk/backend/webhooks";
import { and, eq, isNull } from "drizzle-orm";
import { syncSeats } from "../../billing/seats";
import { webhookReceivedResponse } from "../../protocol/operations";
import { displayName } from "../../protocol/primitives";
import { isUuid } from "../access";
import { parlorRole } from "../clerk";
import { chatMemberships, clerkMembershipRemovals, orgMemberships, orgs, processedWebhooks, users } from "../db/schema";
import { badRequest, notFound } from "../errors";
import {
  announceRole,
  deleteMembership,
  deliverRevocations,
  type MembershipAudit,
  queueRevocations,
  type Tx,
  upsertMembership,
} from "../memberships";
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
    await applyClerkEvent(tx, event, { actor: { type: "system", id: "clerk" }, record: c.var.audit.record });
    return true;
  });
  if (applied && (event.type === "organizationMembership.created" || event.type === "organizationMembership.updated")) {
    const orgId = await orgOfClerk(c.var.db, event.data.organization.id);
    if (orgId) await announceRole(c.env, c.var.db, orgId, event.data.public_user_data.user_id);
  }
  if (
    applied &&
    (event.type === "organizationMembership.created" ||
      event.type === "organizationMembership.updated" ||
      event.type === "organizationMembership.deleted")
  ) {
    const orgId = await orgOfClerk(c.var.db, event.data.organization.id);
    if (orgId) await syncSeats(c.env, c.var.db, orgId);
  }
  // Removals queue revocations in the transaction; delivering them here (on redeliveries too) finishes what a
  // failed earlier attempt left, and a failure now makes Clerk retry.
  const { failed } = await deliverRevocations(c.env, c.var.db);
  if (failed > 0) throw new Error(`${failed} rooms could not be told yet`);
  return c.json(applied ? { received: true as const } : { received: true as const, duplicate: true as const }, 200);
});

/** Each change is written to the org's audit log (actor: Clerk) in the same transaction; a stale event writes nothing. */
async function applyClerkEvent(tx: Tx, event: WebhookEvent, audit: MembershipAudit): Promise<void> {
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
      for (const { orgId } of memberships) await deleteMembership(tx, orgId, userId, { mirroring: true, audit });
      return;
    }
    case "organizationMembership.created":
    case "organizationMembership.updated": {
      const version = event.timestamp;
      let orgId = await orgOfClerk(tx, event.data.organization.id);
      if (!orgId) {
        // Svix does not promise order: the membership may come before its `organization.created`. The org it
        // carries is the org as of this event.
        await applyOrganization(tx, event.data.organization, version, audit);
        orgId = await orgOfClerk(tx, event.data.organization.id);
      }
      if (!orgId) return;
      const user = event.data.public_user_data;
      const current = await versionOf(tx, orgId, user.user_id);
      if (current.removedAt !== null && current.removedAt >= version) return;
      if (current.row === "absent" && event.type === "organizationMembership.updated") return;
      if (current.row !== "absent" && current.row !== null && current.row >= version) return;
      const name = [user.first_name, user.last_name].filter(Boolean).join(" ") || user.identifier || user.user_id;
      await upsertMembership(
        tx,
        orgId,
        { userId: user.user_id, name, role: parlorRole(event.data.role) },
        { mirroring: true, audit },
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
      if (current.row !== "absent") await deleteMembership(tx, orgId, userId, { mirroring: true, audit });
      return;
    }
    case "organization.created":
    case "organization.updated":
      await applyOrganization(tx, event.data, event.timestamp, audit);
      return;
    case "organization.deleted": {
      const clerkOrgId = event.data.id;
      if (!clerkOrgId) return;
      const version = event.timestamp;
      const org = await orgForClerkEvent(tx, clerkOrgId, null);
      if (!org || org.deletedAt !== null) return;
      if (org.clerkVersion !== null && org.clerkVersion > version) return;
      await tx.update(orgs).set({ deletedAt: new Date(), clerkVersion: version }).where(eq(orgs.id, org.id));
      await audit.record(tx, { orgId: org.id, actor: audit.actor, action: "org.deleted", target: `org:${org.id}` });
      // Every open socket of its chats closes: a revocation per chat member, delivered after the commit.
      const members = await tx
        .select({ chatId: chatMemberships.chatId, userId: chatMemberships.userId })
        .from(chatMemberships)
        .where(eq(chatMemberships.orgId, org.id));
      const byUser = new Map<string, string[]>();
      for (const { chatId, userId } of members) byUser.set(userId, [...(byUser.get(userId) ?? []), chatId]);
      for (const [userId, chatIds] of byUser) await queueRevocations(tx, userId, chatIds);
      return;
    }
    default:
      return;
  }
}

/**
 * Links or renames the org Clerk describes, or creates it (made in Clerk's dashboard), as of `version`. An older
 * version than the one that last wrote the row loses, and a deleted org stays deleted.
 */
async function applyOrganization(
  tx: Tx,
  data: OrganizationJSON,
  version: number,
  audit: MembershipAudit,
): Promise<void> {
  const { id: clerkOrgId, public_metadata, created_by } = data;
  const parlorOrgId = public_metadata?.parlorOrgId;
  const org = await orgForClerkEvent(tx, clerkOrgId, typeof parlorOrgId === "string" ? parlorOrgId : null);
  const parsed = displayName.safeParse(data.name);
  const name = parsed.success && parsed.data ? parsed.data : null;
  if (org) {
    if (org.deletedAt !== null || (org.clerkVersion !== null && org.clerkVersion >= version)) return;
    if (org.clerkOrgId !== null && org.clerkOrgId !== clerkOrgId) return; // metadata naming someone else's row
    await tx
      .update(orgs)
      .set({ clerkOrgId, clerkVersion: version, ...(name ? { name } : {}) })
      .where(eq(orgs.id, org.id));
    if (name && name !== org.name) {
      await audit.record(tx, { orgId: org.id, actor: audit.actor, action: "org.renamed", target: `org:${org.id}` });
    }
    return;
  }
  // Made in Clerk's dashboard: a new org, with its creator only if Parlor already knows them.
  const [creator] = created_by ? await tx.select({ id: users.id }).from(users).where(eq(users.id, created_by)) : [];
  const [created] = await tx
    .insert(orgs)
    .values({ name: name ?? clerkOrgId, clerkOrgId, clerkVersion: version, createdBy: creator?.id ?? null })
    .onConflictDoNothing()
    .returning({ id: orgs.id });
  if (created) {
    await audit.record(tx, {
      orgId: created.id,
      actor: audit.actor,
      action: "org.created",
      target: `org:${created.id}`,
    });
  }
}

/** The org a Clerk `organization.*` event is about: by Parlor's id in its metadata when present, else by Clerk's id. */
async function orgForClerkEvent(tx: Tx, clerkOrgId: string, parlorOrgId: string | null) {
  const columns = {
    id: orgs.id,
    name: orgs.name,
    clerkOrgId: orgs.clerkOrgId,
    clerkVersion: orgs.clerkVersion,
    deletedAt: orgs.deletedAt,
  };
  if (parlorOrgId && isUuid(parlorOrgId)) {
    const [byMetadata] = await tx.select(columns).from(orgs).where(eq(orgs.id, parlorOrgId)).for("update");
    if (byMetadata) return byMetadata;
  }
  const [byClerkId] = await tx.select(columns).from(orgs).where(eq(orgs.clerkOrgId, clerkOrgId)).for("update");
  return byClerkId ?? null;
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
  // A deleted org is a tombstone: membership events for it change nothing.
  const [org] = await tx
    .select({ id: orgs.id })
    .from(orgs)
    .where(and(eq(orgs.clerkOrgId, clerkOrgId), isNull(orgs.deletedAt)));
  return org?.id ?? null;
}
