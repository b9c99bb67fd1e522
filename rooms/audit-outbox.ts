/**
 * The room's audit outbox. An event that happens in the room (a decision, an expiry, a refused run) writes its row in
 * the same synchronous turn as the change it records, so SQLite commits both or neither; the scheduler delivers rows
 * to the org's log in Postgres under a key of the room's, so a delivery repeated after a crash lands once. Repeated
 * refusals of one actor for one reason share a row per minute, delivered when the minute is over, with a count.
 */

import { eq } from "drizzle-orm";
import { type AuditInput, appendAuditAlone } from "../api/audit/append";
import { scheduleCheckpoint } from "../api/audit/checkpoint-keeper";
import { type Database, openDatabase } from "../api/db/client";
import { orgs } from "../api/db/schema";
import type { AuditAction, AuditActor } from "../protocol/audit";
import { cachedChat, type RoomState } from "./room-state";
import type { ScheduledJob } from "./scheduler";

const MINUTE_MS = 60_000;
const RETRY_MS = 30_000;

export type RoomAuditEvent = {
  actor: AuditActor;
  action: AuditAction;
  target: string;
  outcome?: "success" | "refused";
};

/** Queues an event that happens once, under a key naming it (`approval:<id>`): queuing it again changes nothing. */
export function queueAudit(room: RoomState, key: string, event: RoomAuditEvent, now = Date.now()): void {
  insert(room, key, event, now, now, false);
}

/** Queues a refusal; the same actor, action and target within a minute only adds to the count. */
export function queueRefusal(room: RoomState, event: Omit<RoomAuditEvent, "outcome">, now = Date.now()): void {
  const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const key = `refused:${minute}:${event.action}:${event.actor.type}:${event.actor.id}:${event.target}`;
  insert(room, key, { ...event, outcome: "refused" }, now, minute + MINUTE_MS, true);
}

function insert(room: RoomState, key: string, event: RoomAuditEvent, at: number, due: number, counts: boolean) {
  const row = room.sql
    .exec<{ count: number }>(
      `INSERT INTO audit_outbox (key, actor_type, actor_id, action, target, outcome, count, at, due_at)
       VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)
       ON CONFLICT (key) DO UPDATE SET count = count + ${counts ? 1 : 0}
       RETURNING count`,
      key,
      event.actor.type,
      event.actor.id,
      event.action,
      event.target,
      event.outcome ?? "success",
      at,
      due,
    )
    .one();
  // A new row may need the alarm sooner; a repeat within the minute does not.
  if (row.count === 1) room.reschedule();
}

type OutboxRow = {
  key: string;
  actor_type: AuditActor["type"];
  actor_id: string;
  action: AuditAction;
  target: string;
  outcome: "success" | "refused";
  count: number;
  at: number;
};

/** The outbox's rows, oldest first: all of them, or those due by `dueBy`. */
function outboxRows(sql: SqlStorage, dueBy?: number): OutboxRow[] {
  const columns = "key, actor_type, actor_id, action, target, outcome, count, at";
  return dueBy === undefined
    ? sql.exec<OutboxRow>(`SELECT ${columns} FROM audit_outbox ORDER BY at`).toArray()
    : sql.exec<OutboxRow>(`SELECT ${columns} FROM audit_outbox WHERE due_at <= ? ORDER BY at`, dueBy).toArray();
}

export function auditOutbox(room: RoomState): ScheduledJob {
  return {
    name: "audit outbox",
    nextWake: () =>
      room.sql.exec<{ due: number | null }>("SELECT min(due_at) AS due FROM audit_outbox").one().due ?? null,
    run: async (now) => {
      const chat = cachedChat(room);
      if (!chat) return;
      const due = outboxRows(room.sql, now);
      if (due.length === 0) return;
      const { db, close } = openDatabase(room.env);
      try {
        if (await orgGone(db, chat.orgId)) {
          // Nothing to write to (an org purged, or a room a test made up): the events have nowhere to go.
          room.sql.exec("DELETE FROM audit_outbox WHERE due_at <= ?", now);
          return;
        }
        for (const row of due) {
          await appendAuditAlone(db, entryOf(row, chat));
          room.sql.exec("DELETE FROM audit_outbox WHERE key = ?", row.key);
        }
      } catch (error) {
        // Postgres is unreachable or refused: try again later, not on every wake.
        room.sql.exec("UPDATE audit_outbox SET due_at = ? WHERE due_at <= ?", now + RETRY_MS, now);
        throw error;
      } finally {
        await close();
      }
      await scheduleCheckpoint(room.env, chat.orgId);
    },
  };
}

/**
 * Every event still in the outbox, due or not (a refusal still counting its minute included), as entries for the org's
 * log: the chat's purge writes them in its own transaction, since the room's storage goes right after it.
 */
export function outboxEntries(room: RoomState, chat: { orgId: string; chatId: string }): AuditInput[] {
  return outboxRows(room.sql).map((row) => entryOf(row, chat));
}

/**
 * For the chat's purge, right before its storage goes: delivers what was queued while the purge awaited (an agent's
 * refused call back into the chat), until the outbox is empty, so the caller can wipe in the same synchronous step.
 */
export async function drainOutbox(room: RoomState, chat: { orgId: string; chatId: string }): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const rows = outboxRows(room.sql);
    if (rows.length === 0) return;
    const { db, close } = openDatabase(room.env);
    try {
      for (const row of rows) {
        await appendAuditAlone(db, entryOf(row, chat));
        room.sql.exec("DELETE FROM audit_outbox WHERE key = ? AND count = ?", row.key, row.count);
      }
    } finally {
      await close();
    }
  }
}

function entryOf(row: OutboxRow, chat: { orgId: string; chatId: string }): AuditInput {
  return {
    orgId: chat.orgId,
    actor: { type: row.actor_type, id: row.actor_id },
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    count: row.count,
    at: new Date(row.at),
    eventKey: `room:${chat.chatId}:${row.key}`,
  };
}

async function orgGone(db: Database, orgId: string): Promise<boolean> {
  const [org] = await db.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, orgId));
  return !org;
}
