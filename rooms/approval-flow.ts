/**
 * The room's side of approvals: an agent asks before a call that changes the outside world, a member decides (or
 * nobody does and it expires), everyone is told, and the agent is told until it takes the decision.
 */

import { getAgentByName } from "agents";
import { errorFields, log } from "../api/log";
import { agentInstanceName } from "../protocol/agent-runs";
import { type Approval, approvalRequested } from "../protocol/agents";
import {
  type ApprovalRequest,
  createApproval,
  type Decider,
  decide,
  getApproval,
  hasUnnotifiedDecisions,
  markNotified,
  mayDecide,
  nextExpiry,
  overdueApprovals,
  unnotifiedDecisions,
} from "./approvals";
import { queueAudit } from "./audit-outbox";
import { appendMessage } from "./message-log";
import { cachedChat, type RoomState } from "./room-state";
import { extendDeadline, runRecord, savePartialText } from "./runs";
import type { ScheduledJob } from "./scheduler";

/** A decision the agent has not taken is sent again after this long. */
const RESEND_AFTER_MS = 5_000;

/**
 * Stores the request once per tool call. The initiator comes from the room's own record of the run, not from the
 * agent, so nobody can borrow another member's authority.
 */
export function requestApproval(
  room: RoomState,
  request: Omit<ApprovalRequest, "initiator">,
): { approvalId: string; expiresAt: string } | null {
  // (`request.runId` and `request.agentId` come from the run capability, i.e. from the room's record.)
  const run = runRecord(room.sql, request.runId);
  if (run?.status !== "running") return null;
  if (room.live.has(request.runId)) savePartialText(room.sql, request.runId, room.live.text(request.runId));
  const { approval, created } = createApproval(room.sql, { ...request, initiator: run.initiator });
  if (created) {
    room.broadcast(approvalRequested(approval));
    room.reschedule();
  }
  return { approvalId: approval.approvalId, expiresAt: approval.expiresAt };
}

/** The first decision wins; a later one, or one by somebody the policy does not allow, is refused. */
export function decideApproval(
  room: RoomState,
  decider: Decider & { name: string },
  approvalId: string,
  decision: "approve" | "deny",
): { approval: Approval } | { error: "not_found" | "forbidden" | "conflict" } {
  const approval = getApproval(room.sql, approvalId);
  if (!approval) return { error: "not_found" };
  if (!mayDecide(approval, decider)) return { error: "forbidden" };
  const decided = decide(room.sql, approvalId, decision === "approve" ? "approved" : "denied", decider.userId);
  if (!decided) return { error: "conflict" };
  announceDecision(room, decided, decider.name);
  return { approval: decided };
}

/** The room's alarm expires overdue approvals (an expiry denies) and re-sends decisions an agent has not taken. */
export function approvalDeadlines(room: RoomState): ScheduledJob {
  const resendAt = (now: number): number | null => {
    if (!hasUnnotifiedDecisions(room.sql)) return null;
    // A room that slept does not know when it last sent: it sends at once.
    return room.decisionsSentAt === null ? now : room.decisionsSentAt + RESEND_AFTER_MS;
  };
  return {
    name: "approval expiry and redelivery",
    nextWake: (now) => earliest(nextExpiry(room.sql)?.getTime() ?? null, resendAt(now)),
    run: async (now) => {
      for (const approval of overdueApprovals(room.sql, new Date(now))) {
        const decided = decide(room.sql, approval.approvalId, "expired", "parlor");
        if (decided) announceDecision(room, decided, "nobody (it expired)");
      }
      const resend = resendAt(now);
      if (resend === null || resend > now) return;
      await Promise.all(unnotifiedDecisions(room.sql).map((approval) => notifyAgent(room, approval)));
    },
  };
}

function announceDecision(room: RoomState, approval: Approval, byName: string): void {
  extendDeadline(room.sql, approval.runId);
  const decision = approval.status as "approved" | "denied" | "expired";
  queueAudit(room, `approval:${approval.approvalId}`, {
    actor:
      decision === "expired" || !approval.decidedBy
        ? { type: "system", id: "parlor" }
        : { type: "user", id: approval.decidedBy },
    action: `approval.${decision}`,
    target: `approval:${approval.approvalId} agent:${approval.agentId} ${approval.method} ${originOf(approval.url)}`,
  });
  const { message } = appendMessage(
    room.sql,
    { type: "system", id: "parlor", name: "Parlor" },
    {
      text: `${byName} ${decision === "expired" ? "let expire" : decision} ${approval.method} ${approval.url}`,
      clientMessageId: `approval:${approval.approvalId}`,
    },
  );
  room.broadcast({ type: "message", ...message });
  room.broadcast({
    type: "approval.decided",
    approvalId: approval.approvalId,
    runId: approval.runId,
    agentId: approval.agentId,
    decision,
    by: approval.decidedBy ?? "parlor",
  });
  void notifyAgent(room, approval);
  // The run's clock restarted with the decision, and the agent may not take it: the alarm follows both.
  room.reschedule();
}

async function notifyAgent(room: RoomState, approval: Approval): Promise<void> {
  const chat = cachedChat(room);
  if (!chat) return;
  room.decisionsSentAt = Date.now();
  try {
    const agent = await getAgentByName(room.env.ChatAgent, agentInstanceName(chat.chatId, approval.agentId));
    await agent.resumeRun(
      approval.runId,
      approval.approvalId,
      approval.toolCallId,
      approval.status as "approved" | "denied" | "expired",
    );
    markNotified(room.sql, approval.approvalId);
  } catch (error) {
    log("warn", "decision_not_delivered", {
      orgId: chat.orgId,
      chatId: chat.chatId,
      runId: approval.runId,
      approvalId: approval.approvalId,
      ...errorFields(error),
    });
    room.reschedule();
  }
}

/** Only the origin: a path or query a model wrote may carry anything. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(not a URL)";
  }
}

function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}
