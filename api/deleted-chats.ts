/**
 * The cron's backstop for deleted chats: each room purges itself at `purgeAt` with its own alarm, but a room that was
 * never told (its push failed after Postgres committed) would not. Chats overdue by a minute are pushed their tombstone
 * again; the room's alarm then purges them.
 */
import { lte } from "drizzle-orm";
import { lifecycleColumns, lifecycleOf } from "./db/chat-lifecycle";
import type { Database } from "./db/client";
import { chats } from "./db/schema";
import { errorFields, log } from "./log";
import { pushLifecycle } from "./orchestrator";

const OVERDUE_MS = 60_000;
const PER_SWEEP = 50;

export async function sweepDeletedChats(env: Env, db: Database, now = Date.now()): Promise<number> {
  const overdue = await db
    .select({ ...lifecycleColumns, id: chats.id, orgId: chats.orgId })
    .from(chats)
    .where(lte(chats.purgeAt, new Date(now - OVERDUE_MS)))
    .limit(PER_SWEEP);
  for (const row of overdue) {
    try {
      await pushLifecycle(env, { chatId: row.id, orgId: row.orgId }, lifecycleOf(row));
    } catch (error) {
      log("error", "deleted_chat_sweep_failed", { chatId: row.id, ...errorFields(error) });
    }
  }
  return overdue.length;
}
