/**
 * The room's one alarm: it fails runs past their deadline, expires approvals nobody decided, and re-sends decisions
 * an agent has not taken.
 */
import { expireAndResend } from "./approval-flow";
import { nextWake } from "./approvals";
import { failRun } from "./ending-runs";
import type { RoomState } from "./room-state";
import { nextRunDeadline, overdueRuns } from "./runs";

/** Sets the alarm to the earliest wake the room needs, at least a second from now. */
export function scheduleWake(sql: SqlStorage, setAlarm: (at: Date) => void): void {
  const candidates = [nextWake(sql), nextRunDeadline(sql)].filter((d): d is Date => d !== null);
  if (candidates.length === 0) return;
  setAlarm(new Date(Math.max(Date.now() + 1_000, Math.min(...candidates.map((d) => d.getTime())))));
}

export async function runAlarm(room: RoomState): Promise<void> {
  for (const runId of overdueRuns(room.sql, new Date())) failRun(room, runId, "the agent stopped answering");
  await expireAndResend(room, new Date());
  room.reschedule();
}
