/**
 * Org membership writes, in one place for both ways they arrive: directly from the App API in development,
 * and from Clerk's webhook in production. Removing a member also removes them from the org's chats; the caller
 * tells those rooms once the transaction has committed.
 */

import { and, eq, type SQL } from "drizzle-orm";
import { syncSeats } from "../billing/seats";
import type { AuditActor } from "../protocol/audit";
import type { AuditTrail } from "./audit/trail";
import type { Database } from "./db/client";
import { chatMemberships, type OrgRole, orgMemberships, pendingRevocations, users } from "./db/schema";
import { conflict } from "./errors";
import { errorFields, log } from "./log";
import { removeFromRoom, setRoleInRoom } from "./orchestrator";

export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/**
 * `mirroring`: the change already happened in Clerk, the directory in production. The last-admin rule guards our
 * own API; it must not stop us from recording what Clerk reports.
 */
type WriteOptions = { mirroring?: boolean; audit?: MembershipAudit };

/**
 * Who made a membership change, and where its audit entry goes (`c.var.audit.record`): written in the same
 * transaction, and only when the membership actually changed.
 */
export type MembershipAudit = { actor: AuditActor; record: AuditTrail["record"] };

export async function upsertMembership(
  tx: Tx,
  orgId: string,
  member: { userId: string; name?: string; role: OrgRole },
  { mirroring = false, audit }: WriteOptions = {},
): Promise<void> {
  await tx
    .insert(users)
    .values({ id: member.userId, name: member.name ?? member.userId })
    .onConflictDoUpdate({ target: users.id, set: member.name ? { name: member.name } : { id: member.userId } });
  if (member.role === "member" && !mirroring) await refuseLastAdminLoss(tx, orgId, member.userId);
  const [before] = await tx
    .select({ role: orgMemberships.role })
    .from(orgMemberships)
    .where(and(eq(orgMemberships.orgId, orgId), eq(orgMemberships.userId, member.userId)))
    .for("update");
  await tx
    .insert(orgMemberships)
    .values({ orgId, userId: member.userId, role: member.role })
    .onConflictDoUpdate({ target: [orgMemberships.orgId, orgMemberships.userId], set: { role: member.role } });
  if (audit && before?.role !== member.role) {
    await audit.record(tx, {
      orgId,
      actor: audit.actor,
      action: before ? "member.role_changed" : "member.added",
      target: `user:${member.userId} role=${member.role}`,
    });
  }
}

/**
 * A membership written through the App API (development; under Clerk its webhook brings them): `upsertMembership`
 * audited as `audit.actor`, in one transaction after `first` (the caller's own checks and rows) when given; once it
 * has committed, the rooms of the member's chats learn the role and the org's seats are synced.
 */
export async function saveMembership(
  env: Env,
  db: Database,
  orgId: string,
  member: { userId: string; role: OrgRole },
  audit: MembershipAudit,
  first?: (tx: Tx) => Promise<void>,
): Promise<void> {
  await db.transaction(async (tx) => {
    if (first) await first(tx);
    await upsertMembership(tx, orgId, member, { audit });
  });
  await announceRole(env, db, orgId, member.userId);
  await syncSeats(env, db, orgId);
}

/** Deletes the membership, and queues a revocation for every chat of the org the member was in. */
export async function deleteMembership(
  tx: Tx,
  orgId: string,
  userId: string,
  { mirroring = false, audit }: WriteOptions = {},
): Promise<string[]> {
  if (!mirroring) await refuseLastAdminLoss(tx, orgId, userId);
  const chats = await tx
    .select({ chatId: chatMemberships.chatId })
    .from(chatMemberships)
    .where(and(eq(chatMemberships.orgId, orgId), eq(chatMemberships.userId, userId)));
  // Chat memberships go with the org membership (composite foreign key, on delete cascade).
  const removed = await tx
    .delete(orgMemberships)
    .where(and(eq(orgMemberships.orgId, orgId), eq(orgMemberships.userId, userId)))
    .returning({ userId: orgMemberships.userId });
  if (audit && removed.length > 0) {
    const left = audit.actor.type === "user" && audit.actor.id === userId;
    await audit.record(tx, {
      orgId,
      actor: audit.actor,
      action: left ? "member.left" : "member.removed",
      target: `user:${userId}`,
    });
  }
  const chatIds = chats.map((row) => row.chatId);
  await queueRevocations(tx, userId, chatIds);
  return chatIds;
}

export async function queueRevocations(tx: Tx, userId: string, chatIds: string[]): Promise<void> {
  if (chatIds.length === 0) return;
  await tx
    .insert(pendingRevocations)
    .values(chatIds.map((chatId) => ({ chatId, userId })))
    .onConflictDoNothing();
}

/**
 * Tells rooms about queued removals, deleting each row once its room has closed the sockets. A room that cannot be
 * reached keeps its row for the next attempt (the next removal, webhook, or the scheduled sweep).
 */
export async function deliverRevocations(env: Env, db: Database, where?: SQL): Promise<{ failed: number }> {
  const pending = await db
    .select({ chatId: pendingRevocations.chatId, userId: pendingRevocations.userId })
    .from(pendingRevocations)
    .where(where)
    .limit(200);
  let failed = 0;
  await Promise.all(
    pending.map(async ({ chatId, userId }) => {
      try {
        await removeFromRoom(env, chatId, userId);
        await db
          .delete(pendingRevocations)
          .where(and(eq(pendingRevocations.chatId, chatId), eq(pendingRevocations.userId, userId)));
      } catch (error) {
        failed++;
        log("warn", "revocation_not_delivered", { chatId, userId, ...errorFields(error) });
      }
    }),
  );
  return { failed };
}

/** An org always keeps an admin: the last one can neither leave nor be demoted. */
export async function refuseLastAdminLoss(tx: Tx, orgId: string, userId: string): Promise<void> {
  const admins = await tx
    .select({ userId: orgMemberships.userId })
    .from(orgMemberships)
    .where(and(eq(orgMemberships.orgId, orgId), eq(orgMemberships.role, "admin")))
    .for("update");
  if (admins.length === 1 && admins[0].userId === userId) throw conflict("an org must keep at least one admin");
}

/**
 * Tells the rooms of the org's chats this member is in about their new org role, so sockets already open decide
 * approvals (policy "admins") with the role they have now. Best effort: REST decisions re-check Postgres anyway,
 * and a socket opened later carries the new role.
 */
export async function announceRole(env: Env, db: Database, orgId: string, userId: string): Promise<void> {
  const [membership] = await db
    .select({ role: orgMemberships.role })
    .from(orgMemberships)
    .where(and(eq(orgMemberships.orgId, orgId), eq(orgMemberships.userId, userId)));
  if (!membership) return;
  const chats = await db
    .select({ chatId: chatMemberships.chatId })
    .from(chatMemberships)
    .where(and(eq(chatMemberships.orgId, orgId), eq(chatMemberships.userId, userId)));
  await Promise.all(
    chats.map(({ chatId }) =>
      setRoleInRoom(env, chatId, userId, membership.role).catch((error) =>
        log("warn", "room_role_not_updated", { orgId, chatId, userId, ...errorFields(error) }),
      ),
    ),
  );
}
