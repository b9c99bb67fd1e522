/**
 * A summary job reads the log, waits for a model, then hands its summary back: a message deleted or edited meanwhile,
 * or the summaries rebuilt meanwhile, would bring the old words back through it. Such a summary is refused; the job is
 * asked again with a later message and reads the log as it is then. `readAt` is when the job read (ISO time).
 */
import { z } from "zod";
import { readMeta, writeMeta } from "./room-meta";

const REBUILT_AT = "summaries_rebuilt_at";

export function noteSummariesRebuilt(sql: SqlStorage, at: string): void {
  writeMeta(sql, REBUILT_AT, at);
}

/** True when something the summary covers (up to `cursor`) changed at or after `readAt`. */
export function changedSinceRead(sql: SqlStorage, cursor: number, readAt: string): boolean {
  const rebuiltAt = readMeta(sql, REBUILT_AT, z.string());
  if (rebuiltAt !== null && rebuiltAt >= readAt) return true;
  return (
    sql
      .exec(
        "SELECT 1 FROM messages WHERE seq <= ? AND (deleted_at >= ? OR edited_at >= ?) LIMIT 1",
        cursor,
        readAt,
        readAt,
      )
      .toArray().length > 0
  );
}
