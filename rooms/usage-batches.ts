/**
 * Usage leaves the room in batches, through its scheduler: a while after the first thing counted (`PARLOR_USAGE_BATCH_MS`,
 * default 10 s), the room cuts a batch (the messages and usage-log rows since the last one), keeps it, and sends it
 * to Postgres and Stripe under a key made of its ranges. Only when both have it does the cursor move; until then the
 * same batch is sent again, with backoff, so nothing is lost or counted twice. An idle room sets no alarm.
 */

import { and, eq, ne } from "drizzle-orm";
import { z } from "zod";
import { openDatabase } from "../api/db/client";
import { chats } from "../api/db/schema";
import { NOTHING_REFUSED, refusalSignature } from "../billing/allowance";
import { tellRooms } from "../billing/push";
import { readBilling } from "../billing/state";
import { countUsage, meterUsage, type UsageBatch } from "../billing/usage";
import { roomBilling, setRoomBilling } from "./billing-gate";
import { deleteMeta, readMeta, writeMeta } from "./room-meta";
import { cachedChat, type RoomState } from "./room-state";
import type { ScheduledJob } from "./scheduler";
import { type UsageCursor, usageCursorSchema } from "./usage-log";

const pendingSchema = usageCursorSchema.extend({
  key: z.string(),
  usageTo: z.number().int(),
  seqTo: z.number().int(),
  cutAt: z.number(),
  attempts: z.number().int(),
  nextAttemptAt: z.number(),
});
type PendingBatch = z.infer<typeof pendingSchema>;

const DEFAULT_BATCH_MS = 10_000;
const MAX_BACKOFF_MS = 5 * 60_000;

function batchMs(env: Env): number {
  const configured = Number(env.PARLOR_USAGE_BATCH_MS);
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_BATCH_MS;
}

/** A new room counts from its first message; a room from before usage counting, from when it first woke with it. */
export function startUsageCursor(sql: SqlStorage, fromNow: boolean): void {
  if (readMeta(sql, "usage_cursor", usageCursorSchema)) return;
  writeMeta(sql, "usage_cursor", fromNow ? heads(sql) : { usageId: 0, seq: 0 });
}

/** Something was counted: make sure the alarm will send it. Costs a reschedule once per batch, not per message. */
export function noteUsage(room: RoomState): void {
  if (room.usageSince !== null) return;
  room.usageSince = Date.now();
  room.reschedule();
}

export function usageBatches(room: RoomState): ScheduledJob {
  return {
    name: "usage batches",
    nextWake: (now) => {
      const pending = readMeta(room.sql, "usage_batch", pendingSchema);
      if (pending) return pending.nextAttemptAt;
      if (!hasUnsent(room.sql)) {
        room.usageSince = null;
        return null;
      }
      room.usageSince ??= now;
      return room.usageSince + batchMs(room.env);
    },
    run: (now) => sendUsage(room, now),
  };
}

async function sendUsage(room: RoomState, now: number): Promise<void> {
  const chat = cachedChat(room);
  if (!chat) return;
  const pending = readMeta(room.sql, "usage_batch", pendingSchema) ?? cutBatch(room.sql, chat.chatId, now);
  room.usageSince = null;
  if (!pending) return;
  const batch = contents(room.sql, pending);
  const { db, close } = openDatabase(room.env);
  try {
    const before = roomBilling(room);
    if ((await countUsage(db, chat.orgId, batch)) !== "org_gone") {
      await meterUsage(room.env, db, batch);
      const { room: billing } = await readBilling(db, room.env, chat.orgId, new Date(now));
      setRoomBilling(room, billing);
      const was = before ? refusalSignature(before, now) : NOTHING_REFUSED;
      if (refusalSignature(billing, now) !== was) {
        // This batch spent (or freed) a quota: the org's other rooms learn it now rather than at their next batch.
        const others = await db
          .select({ id: chats.id })
          .from(chats)
          .where(and(eq(chats.orgId, chat.orgId), ne(chats.id, chat.chatId)));
        await tellRooms(
          room.env,
          others.map((c) => c.id),
          billing,
        );
      }
    }
    writeMeta(room.sql, "usage_cursor", { usageId: pending.usageTo, seq: pending.seqTo });
    deleteMeta(room.sql, "usage_batch");
  } catch (error) {
    const attempts = pending.attempts + 1;
    const delay = Math.min(MAX_BACKOFF_MS, batchMs(room.env) * 2 ** attempts);
    writeMeta(room.sql, "usage_batch", { ...pending, attempts, nextAttemptAt: now + delay });
    throw error;
  } finally {
    await close();
  }
}

function heads(sql: SqlStorage): UsageCursor {
  const row = sql
    .exec<{ usageId: number; seq: number }>(
      `SELECT (SELECT coalesce(max(id), 0) FROM usage_log) AS usageId,
              (SELECT coalesce(max(seq), 0) FROM messages) AS seq`,
    )
    .one();
  return { usageId: row.usageId, seq: row.seq };
}

function hasUnsent(sql: SqlStorage): boolean {
  const cursor = readMeta(sql, "usage_cursor", usageCursorSchema);
  if (!cursor) return false;
  const head = heads(sql);
  return head.usageId > cursor.usageId || head.seq > cursor.seq;
}

/** Fixes the next batch's ranges and keeps them, so a retry sends the very same batch under the same key. */
function cutBatch(sql: SqlStorage, chatId: string, now: number): PendingBatch | null {
  const cursor = readMeta(sql, "usage_cursor", usageCursorSchema);
  if (!cursor) return null;
  const head = heads(sql);
  if (head.usageId <= cursor.usageId && head.seq <= cursor.seq) return null;
  const pending: PendingBatch = {
    ...cursor,
    key: `${chatId}:u${cursor.usageId}-${head.usageId}:m${cursor.seq}-${head.seq}`,
    usageTo: head.usageId,
    seqTo: head.seq,
    cutAt: now,
    attempts: 0,
    nextAttemptAt: now,
  };
  writeMeta(sql, "usage_batch", pending);
  return pending;
}

function contents(sql: SqlStorage, pending: PendingBatch): UsageBatch {
  const { messages } = sql
    .exec<{ messages: number }>(
      "SELECT count(*) AS messages FROM messages WHERE seq > ? AND seq <= ? AND author_type != 'system'",
      pending.seq,
      pending.seqTo,
    )
    .one();
  const members = sql
    .exec<{ userId: string; agentRuns: number; tokensIn: number; tokensOut: number }>(
      `SELECT user_id AS userId, sum(agent_runs) AS agentRuns, sum(tokens_in) AS tokensIn, sum(tokens_out) AS tokensOut
       FROM usage_log WHERE id > ? AND id <= ? GROUP BY user_id ORDER BY user_id`,
      pending.usageId,
      pending.usageTo,
    )
    .toArray();
  return { key: pending.key, cutAt: pending.cutAt, messages, members: members.map((m) => ({ ...m })) };
}
