/**
 * Reminders before an approval expires: when `REMIND_AT_SHARE` of its time has passed, the members who may still
 * decide (and have not voted) get `approval.reminder` on their sockets, and the chat gets a notice naming them. Who
 * they are is read from Postgres at that moment (chat members and their org roles), as the API does.
 */
import { chatDeciders } from "../api/approval-deciders";
import { openDatabase } from "../api/db/client";
import { waitingFor } from "../protocol/approval-policy";
import { postNotice } from "./approval-flow";
import { countedApprovals } from "./approval-votes";
import { getApproval } from "./approvals";
import { cachedChat, type RoomState } from "./room-state";
import type { ScheduledJob } from "./scheduler";

type DueRow = { approval_id: string };

const DUE = "status = 'pending' AND remind_at IS NOT NULL AND coalesce(reminded, 0) = 0";

export function approvalReminders(room: RoomState): ScheduledJob {
  return {
    name: "approval reminders",
    nextWake: () => {
      const at = room.sql
        .exec<{ at: string | null }>(`SELECT min(remind_at) AS at FROM approvals WHERE ${DUE}`)
        .one().at;
      return at ? Date.parse(at) : null;
    },
    run: async (now) => {
      const due = room.sql
        .exec<DueRow>(`SELECT approval_id FROM approvals WHERE ${DUE} AND remind_at <= ?`, new Date(now).toISOString())
        .toArray();
      if (due.length === 0) return;
      const chat = cachedChat(room);
      if (!chat) return;
      const { db, close } = openDatabase(room.env);
      let members: Awaited<ReturnType<typeof chatDeciders>>;
      try {
        members = await chatDeciders(db, chat.chatId);
      } finally {
        await close();
      }
      const names = new Map(members.map((m) => [m.userId, m.name]));
      for (const { approval_id } of due) {
        // Read again after the await: a vote or the expiry may have come in meanwhile.
        const approval = getApproval(room.sql, approval_id);
        const marked = room.sql
          .exec(
            "UPDATE approvals SET reminded = 1 WHERE approval_id = ? AND coalesce(reminded, 0) = 0 RETURNING 1",
            approval_id,
          )
          .toArray().length;
        if (!approval || marked === 0 || approval.status !== "pending") continue;
        // Past its expiry there is nothing to remind of: the expiry (or its notice) says it.
        if (Date.parse(approval.expiresAt) <= now) continue;
        const waiting = waitingFor(approval, members);
        const event = {
          type: "approval.reminder" as const,
          approvalId: approval_id,
          expiresAt: approval.expiresAt,
          waitingFor: waiting,
        };
        room.sendTo?.(waiting, event);
        const who = waiting.length > 0 ? waiting.map((id) => names.get(id) ?? id).join(", ") : "nobody in the chat";
        const left = approval.quorum - countedApprovals(room.sql, approval, approval.votes);
        postNotice(
          room,
          `approval-reminder:${approval_id}`,
          `Reminder: ${approval.method} ${approval.url} needs ${left} more approval${left === 1 ? "" : "s"} before ${approval.expiresAt}; waiting for ${who}.`,
        );
      }
    },
  };
}
