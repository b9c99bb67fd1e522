/**
 * The room's side of a chat's lifecycle: its title, whether it is archived and its tombstone, as the App API last
 * pushed them (`room_meta.lifecycle`, newest revision wins). The message path reads them from memory: an archived
 * room refuses new messages without a Postgres query, a deleted one refuses everything. When a deleted chat's grace
 * period is over, the room's alarm purges it: its rows in Postgres (with the audit entry), its backups in R2, then
 * its own storage.
 */
import { getAgentByName } from "agents";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { type AuditInput, appendAudit } from "../api/audit/append";
import { type ChatLifecycle, lifecycleColumns, lifecycleOf } from "../api/db/chat-lifecycle";
import { openDatabase } from "../api/db/client";
import { chats } from "../api/db/schema";
import { agentInstanceName } from "../protocol/agent-runs";
import { drainOutbox, outboxEntries } from "./audit-outbox";
import { snapshotPrefix } from "./backup-format";
import type { ChatRef } from "./room-address";
import { readMeta, writeMeta } from "./room-meta";
import { cachedChat, type RoomState } from "./room-state";
import type { ScheduledJob } from "./scheduler";

const lifecycleSchema = z.object({
  revision: z.number().int(),
  title: z.string(),
  archived: z.boolean(),
  deleted: z.object({ deletedAt: z.number(), purgeAt: z.number() }).nullable(),
}) satisfies z.ZodType<ChatLifecycle>;

export function roomLifecycle(room: RoomState): ChatLifecycle | null {
  if (room.cache.lifecycle === undefined) room.cache.lifecycle = readMeta(room.sql, "lifecycle", lifecycleSchema);
  return room.cache.lifecycle;
}

export function isArchived(room: RoomState): boolean {
  return roomLifecycle(room)?.archived === true;
}

export function isDeleted(room: RoomState): boolean {
  return (roomLifecycle(room)?.deleted ?? null) !== null;
}

/**
 * Keeps `next` unless the room holds a newer revision. Open sockets hear a rename or an archive change; a deletion
 * is the caller's to announce (it closes the sockets). Returns the state held afterwards.
 */
export function setLifecycle(room: RoomState, next: ChatLifecycle): ChatLifecycle {
  const held = roomLifecycle(room);
  if (held && held.revision >= next.revision) return held;
  writeMeta(room.sql, "lifecycle", next);
  room.cache.lifecycle = next;
  const changed = !held || held.title !== next.title || held.archived !== next.archived;
  if (changed && !next.deleted) room.broadcast({ type: "chat.updated", title: next.title, archived: next.archived });
  return next;
}

/** A member's message or retry in an archived or deleted chat: why it is refused, or null. */
export function closedFor(room: RoomState): ChatClosed | null {
  if (isDeleted(room)) return { closed: "deleted" };
  if (isArchived(room)) return { closed: "archived" };
  return null;
}
export type ChatClosed = { closed: "archived" | "deleted" };
export const closedMessages = {
  archived: "this chat is archived: it is read-only until someone unarchives it",
  deleted: "chat not found",
} as const;

type PurgeOutcome = { kind: "purged" | "gone" } | { kind: "kept"; lifecycle: ChatLifecycle };

/**
 * The purge, due at the tombstone's `purgeAt`. `wipe` is called once Postgres and R2 hold nothing of the chat: the
 * room then deletes its own storage and alarm. A chat restored (or deleted again, later) meanwhile is kept.
 */
export function chatPurge(room: RoomState, wipe: () => void): ScheduledJob {
  return {
    name: "chat purge",
    nextWake: () => roomLifecycle(room)?.deleted?.purgeAt ?? null,
    run: async (now) => {
      const chat = cachedChat(room);
      if (!chat || !isDeleted(room)) return;
      const outcome = await purgeRows(room.env, chat, now, outboxEntries(room, chat));
      if (outcome.kind === "kept") {
        setLifecycle(room, outcome.lifecycle);
        return;
      }
      await deleteAll(room.env.BACKUPS, snapshotPrefix(chat.orgId, chat.chatId));
      await destroyAgents(room, chat);
      await drainOutbox(room, chat);
      wipe();
    },
  };
}

/**
 * Deletes the chat's row (memberships, agents and pending revocations go with it) and audits it, in one commit,
 * together with what the room's audit outbox has not delivered yet (its storage is wiped next).
 */
async function purgeRows(env: Env, chat: ChatRef, now: number, undelivered: AuditInput[]): Promise<PurgeOutcome> {
  const { db, close } = openDatabase(env);
  try {
    return await db.transaction(async (tx): Promise<PurgeOutcome> => {
      const [row] = await tx.select(lifecycleColumns).from(chats).where(eq(chats.id, chat.chatId)).for("update");
      // Gone already: an earlier purge committed and then failed on R2 or the room's storage; finish it.
      if (!row) return { kind: "gone" };
      const lifecycle = lifecycleOf(row);
      if (!lifecycle.deleted || lifecycle.deleted.purgeAt > now) return { kind: "kept", lifecycle };
      for (const entry of undelivered) await appendAudit(tx, entry);
      await tx.delete(chats).where(eq(chats.id, chat.chatId));
      await appendAudit(tx, {
        orgId: chat.orgId,
        actor: { type: "system", id: "parlor" },
        action: "chat.purged",
        target: `chat:${chat.chatId}`,
      });
      return { kind: "purged" };
    });
  } finally {
    await close();
  }
}

/**
 * Each agent that ran here is an actor of this chat alone, whose storage keeps its runs (a run waiting for a decision
 * keeps its whole conversation): it is destroyed too. Read from `runs` before the room's own storage goes.
 */
async function destroyAgents(room: RoomState, chat: ChatRef): Promise<void> {
  const ran = room.sql.exec<{ agent_id: string }>("SELECT DISTINCT agent_id FROM runs").toArray();
  for (const { agent_id } of ran) {
    const agent = await getAgentByName(room.env.ChatAgent, agentInstanceName(chat.chatId, agent_id));
    await agent.destroy();
  }
}

async function deleteAll(bucket: R2Bucket, prefix: string): Promise<void> {
  let cursor: string | undefined;
  do {
    const listed = await bucket.list({ prefix, cursor });
    const keys = listed.objects.map((object) => object.key);
    if (keys.length > 0) await bucket.delete(keys);
    cursor = listed.truncated ? listed.cursor : undefined;
  } while (cursor);
}
