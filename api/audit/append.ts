/**
 * Appending to an org's audit log, inside the caller's transaction: the entry commits with the change it records,
 * or not at all. The org's head row is locked, so entries are numbered and chained one at a time.
 */
import { and, eq } from "drizzle-orm";
import type { AuditAction, AuditActor } from "../../protocol/audit";
import type { Database } from "../db/client";
import { auditEntries, auditHeads } from "../db/schema";
import type { Tx } from "../memberships";
import { entryHash, GENESIS } from "./chain";

export type AuditInput = {
  orgId: string;
  actor: AuditActor;
  action: AuditAction;
  target: string;
  outcome?: "success" | "refused";
  requestId?: string | null;
  /** For events delivered from a room's outbox: the same key lands once. */
  eventKey?: string;
  count?: number;
  at?: Date;
};

/** Returns the entry's seq, or null when an entry with that event key exists already. */
export async function appendAudit(tx: Tx, input: AuditInput): Promise<number | null> {
  const head = await lockHead(tx, input.orgId);
  if (input.eventKey) {
    const [seen] = await tx
      .select({ seq: auditEntries.seq })
      .from(auditEntries)
      .where(and(eq(auditEntries.orgId, input.orgId), eq(auditEntries.eventKey, input.eventKey)));
    if (seen) return null;
  }
  const seq = head.seq + 1;
  // Whole milliseconds: what Postgres stores is exactly what was hashed.
  const at = new Date(Math.floor((input.at ?? new Date()).getTime()));
  const fields = {
    orgId: input.orgId,
    seq,
    at: at.getTime(),
    actor: input.actor,
    action: input.action,
    target: input.target,
    requestId: input.requestId ?? null,
    outcome: input.outcome ?? "success",
    count: input.count ?? 1,
    prevHash: head.hash,
  };
  const hash = await entryHash(fields);
  // The entry and the head's move are one statement, so one round trip.
  const entry = tx.$with("entry").as(
    tx
      .insert(auditEntries)
      .values({
        orgId: input.orgId,
        seq,
        at,
        actorType: input.actor.type,
        actorId: input.actor.id,
        action: input.action,
        target: input.target,
        requestId: fields.requestId,
        outcome: fields.outcome,
        count: fields.count,
        eventKey: input.eventKey ?? null,
        prevHash: head.hash,
        hash,
      })
      .returning({ seq: auditEntries.seq }),
  );
  await tx.with(entry).update(auditHeads).set({ seq, hash }).where(eq(auditHeads.orgId, input.orgId));
  return seq;
}

/**
 * The org's head, locked until the transaction ends. An org that has one (every org after its first entry) costs one
 * round trip; the first entry creates it, and a racing first entry waits on the insert and then reads it.
 */
async function lockHead(tx: Tx, orgId: string): Promise<{ seq: number; hash: string }> {
  const locked = () => tx.select().from(auditHeads).where(eq(auditHeads.orgId, orgId)).for("update");
  const [head] = await locked();
  if (head) return head;
  await tx.insert(auditHeads).values({ orgId, seq: 0, hash: GENESIS }).onConflictDoNothing();
  const [created] = await locked();
  return created;
}

/** Appends in a transaction of its own, for events whose change is not in Postgres (or already committed). */
export function appendAuditAlone(db: Database, input: AuditInput): Promise<number | null> {
  return db.transaction((tx) => appendAudit(tx, input));
}
