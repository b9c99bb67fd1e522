/**
 * Backups on a schedule, through the room's scheduler: when `PARLOR_BACKUP_INTERVAL_MS` is set, a room whose log grew
 * since its last snapshot writes one that long after the last, then keeps the newest `PARLOR_BACKUP_KEEP` (default 7)
 * and deletes older ones, whole. A room with nothing new sets no alarm, so an idle room stays asleep.
 */
import { z } from "zod";
import { snapshotPrefix } from "./backup-format";
import { writeSnapshot } from "./backups";
import { lastSeq } from "./message-log";
import { readMeta, writeMeta } from "./room-meta";
import { cachedChat, type RoomState } from "./room-state";
import type { ScheduledJob } from "./scheduler";

const lastBackupSchema = z.object({ at: z.number(), seq: z.number().int() });
const DEFAULT_KEEP = 7;

function setting(value: string | undefined): number | null {
  const parsed = Number(value);
  return value && Number.isSafeInteger(parsed) && parsed > 0 ? parsed : null;
}

/** Called by an admin's backup too, so the schedule counts from the newest snapshot, whoever asked for it. */
export function noteBackup(sql: SqlStorage, seq: number, at = Date.now()): void {
  writeMeta(sql, "last_backup", { at, seq });
}

export function scheduledBackups(room: RoomState): ScheduledJob {
  const interval = () => setting(room.env.PARLOR_BACKUP_INTERVAL_MS);
  return {
    name: "scheduled backups",
    nextWake: () => {
      const every = interval();
      if (every === null) return null;
      const last = readMeta(room.sql, "last_backup", lastBackupSchema);
      if ((last?.seq ?? 0) >= lastSeq(room.sql)) return null;
      // A room never backed up counts from now (its first message woke it), not from the epoch.
      if (!last) noteBackup(room.sql, 0);
      return (last?.at ?? Date.now()) + every;
    },
    run: async (now) => {
      const chat = cachedChat(room);
      if (!chat || interval() === null) return;
      const backup = await writeSnapshot(room.sql, room.env.BACKUPS, chat, new Date(now));
      noteBackup(room.sql, backup.lastSeq, now);
      await prune(
        room.env.BACKUPS,
        snapshotPrefix(chat.orgId, chat.chatId),
        setting(room.env.PARLOR_BACKUP_KEEP) ?? DEFAULT_KEEP,
      );
    },
  };
}

/** Deletes whole snapshots beyond the newest `keep` (ids sort oldest first); incomplete ones go with their age. */
async function prune(bucket: R2Bucket, prefix: string, keep: number): Promise<void> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const listed = await bucket.list({ prefix, cursor });
    keys.push(...listed.objects.map((object) => object.key));
    cursor = listed.truncated ? listed.cursor : undefined;
  } while (cursor);
  const snapshots = [
    ...new Set(keys.map((key) => key.slice(prefix.length).split("/")[0]).filter((id) => id.includes("-"))),
  ]
    .filter((id) => id !== "latest.json")
    .sort();
  const doomed = new Set(snapshots.slice(0, Math.max(0, snapshots.length - keep)));
  const toDelete = keys.filter((key) => doomed.has(key.slice(prefix.length).split("/")[0]));
  for (let i = 0; i < toDelete.length; i += 1_000) await bucket.delete(toDelete.slice(i, i + 1_000));
}
