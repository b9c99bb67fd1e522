/**
 * How far the chat has got leaves the room in batches, never per message: a while after the first message not yet
 * sent (`PARLOR_ACTIVITY_BATCH_MS`, default 5 s) the room writes its newest seq and time to the chat's Postgres row,
 * and moves the read cursor of each person who wrote in the batch up to their own newest message (writing in a chat
 * means you have read it). Every write only moves forward, so a batch sent twice, or late, changes nothing.
 */
import { and, eq, sql as pgSql } from "drizzle-orm";
import { z } from "zod";
import { openDatabase } from "../api/db/client";
import { chatMemberships, chats } from "../api/db/schema";
import { readMeta, writeMeta } from "./room-meta";
import { cachedChat, type RoomState } from "./room-state";
import type { ScheduledJob } from "./scheduler";

const DEFAULT_BATCH_MS = 5_000;
const MAX_BACKOFF_MS = 5 * 60_000;
const sentSchema = z.object({ seq: z.number().int() });

/** In memory only: whether the alarm already covers the unsent messages, and when to try again after a failure. */
const armed = new WeakSet<RoomState>();
const failures = new WeakMap<RoomState, { attempts: number; retryAt: number }>();

function batchMs(env: Env): number {
  const configured = Number(env.PARLOR_ACTIVITY_BATCH_MS);
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_BATCH_MS;
}

/** A message was stored: make sure the alarm will send it. One reschedule per batch, not per message. */
export function noteActivity(room: RoomState): void {
  if (armed.has(room)) return;
  armed.add(room);
  room.reschedule();
}

export function chatActivity(room: RoomState): ScheduledJob {
  return {
    name: "chat activity",
    nextWake: () => {
      const first = firstUnsent(room.sql);
      if (first === null) {
        armed.delete(room);
        return null;
      }
      const due = first + batchMs(room.env);
      const failed = failures.get(room);
      return failed ? Math.max(due, failed.retryAt) : due;
    },
    run: (now) => sendActivity(room, now),
  };
}

async function sendActivity(room: RoomState, now: number): Promise<void> {
  const chat = cachedChat(room);
  if (!chat) return;
  const sent = sentSeq(room.sql);
  const head = room.sql
    .exec<{ seq: number; createdAt: string }>(
      "SELECT seq, created_at AS createdAt FROM messages ORDER BY seq DESC LIMIT 1",
    )
    .toArray()[0];
  if (!head || head.seq <= sent) return;
  const writers = room.sql
    .exec<{ userId: string; seq: number }>(
      `SELECT author_id AS userId, max(seq) AS seq FROM messages
       WHERE seq > ? AND author_type = 'user' GROUP BY author_id`,
      sent,
    )
    .toArray();
  const { db, close } = openDatabase(room.env);
  try {
    await db.transaction(async (tx) => {
      await tx
        .update(chats)
        .set({
          lastSeq: pgSql`greatest(${chats.lastSeq}, ${head.seq})`,
          lastActivityAt: pgSql`greatest(${chats.lastActivityAt}, ${new Date(head.createdAt)})`,
        })
        .where(eq(chats.id, chat.chatId));
      for (const writer of writers) {
        await tx
          .update(chatMemberships)
          .set({ readSeq: pgSql`greatest(${chatMemberships.readSeq}, ${writer.seq})` })
          .where(and(eq(chatMemberships.chatId, chat.chatId), eq(chatMemberships.userId, writer.userId)));
      }
    });
    writeMeta(room.sql, "activity_sent", { seq: head.seq });
    failures.delete(room);
    armed.delete(room);
  } catch (error) {
    const attempts = (failures.get(room)?.attempts ?? 0) + 1;
    failures.set(room, { attempts, retryAt: now + Math.min(MAX_BACKOFF_MS, batchMs(room.env) * 2 ** attempts) });
    throw error;
  } finally {
    await close();
  }
}

function sentSeq(sql: SqlStorage): number {
  return readMeta(sql, "activity_sent", sentSchema)?.seq ?? 0;
}

/** When the oldest message not yet sent was written (ms), or null when all are sent. */
function firstUnsent(sql: SqlStorage): number | null {
  const row = sql
    .exec<{ createdAt: string }>(
      "SELECT created_at AS createdAt FROM messages WHERE seq > ? ORDER BY seq LIMIT 1",
      sentSeq(sql),
    )
    .toArray()[0];
  return row ? Date.parse(row.createdAt) : null;
}
