/**
 * The room's side of approvals: an agent asks before a call that changes the outside world, a member decides (or
 * nobody does and it expires), everyone is told, and the agent is told until it takes the decision.
 */

import { getAgentByName } from "agents";
import { errorFields, log } from "../api/log";
import { agentInstanceName } from "../protocol/agent-runs";
import { type Approval, approvalRequested } from "../protocol/agents";
import { castVote, countedApprovals, noteRole, votesOf } from "./approval-votes";
import {
  type ApprovalRequest,
  createApproval,
  type Decider,
  decide,
  getApproval,
  hasUnnotifiedDecisions,
  listApprovals,
  markExpiryNoticed,
  markNotified,
  mayDecide,
  nextExpiry,
  openForVotes,
  overdueApprovals,
  unnotifiedDecisions,
} from "./approvals";
import { queueAudit } from "./audit-outbox";
import { appendMessage } from "./message-log";
import { cachedChat, type RoomState } from "./room-state";
import type { RoomApproval } from "./rows";
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

/**
 * A member's vote: stored and broadcast; the quorum's last approving vote approves, any denial denies. A vote once it
 * is decided, a member's second vote, or one by somebody the policy does not allow, is refused.
 */
export function decideApproval(
  room: RoomState,
  decider: Decider & { name: string },
  approvalId: string,
  decision: "approve" | "deny",
): { approval: Approval } | { error: "not_found" | "forbidden" | "conflict" } {
  const approval = getApproval(room.sql, approvalId);
  if (!approval) return { error: "not_found" };
  if (!mayDecide(approval, decider)) return { error: "forbidden" };
  const now = new Date();
  // All synchronous from here: nothing else runs in the room between the check and the writes.
  if (!openForVotes(approval, now)) return { error: "conflict" };
  if (!castVote(room.sql, approvalId, decider.userId, decision, now)) return { error: "conflict" };
  // The voter's role now (REST reads Postgres) also mends a role announcement the room missed.
  if (decider.role) noteRole(room.sql, decider.userId, decider.role);
  const votes = countedApprovals(room.sql, approval, votesOf(room.sql, approvalId));
  const outcome = decision === "deny" ? "denied" : votes >= approval.quorum ? "approved" : null;
  const decided = outcome ? decide(room.sql, approvalId, outcome, decider.userId) : null;
  queueAudit(room, `approval-vote:${approvalId}:${decider.userId}`, {
    actor: { type: "user", id: decider.userId },
    action: "approval.voted",
    target: `${auditTarget(approval)} vote=${decision} votes=${votes}/${approval.quorum}`,
  });
  room.broadcast({ type: "approval.vote", approvalId, by: decider.userId, decision, votes, needed: approval.quorum });
  if (decided) announceDecision(room, decided, decider.name);
  return { approval: decided ?? (getApproval(room.sql, approvalId) as RoomApproval) };
}

/**
 * A voter left or joined the chat, or their role changed: the pending approvals they voted for count differently now,
 * so each is sent again (`approval.requested` with its new `counted`) and every card shows the room's count.
 */
export function recountVotesOf(room: RoomState, userId: string): void {
  const now = new Date();
  for (const approval of listApprovals(room.sql, "pending")) {
    if (!approval.votes.some((vote) => vote.by === userId && vote.decision === "approve")) continue;
    // A vote counting again can complete the quorum: nobody can vote twice, so the room decides it now.
    const decided =
      approval.counted >= approval.quorum && openForVotes(approval, now)
        ? decide(room.sql, approval.approvalId, "approved", userId)
        : null;
    if (decided) announceDecision(room, decided, `The quorum (with ${userId}'s vote counting again)`);
    else room.broadcast(approvalRequested(approval));
  }
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
        if (approval.onExpiry === "wait") {
          if (markExpiryNoticed(room.sql, approval.approvalId)) noticeStillWaiting(room, approval);
          continue;
        }
        const decided = decide(room.sql, approval.approvalId, "expired", "parlor");
        if (decided) announceDecision(room, decided, "nobody (it expired)");
      }
      const resend = resendAt(now);
      if (resend === null || resend > now) return;
      await Promise.all(unnotifiedDecisions(room.sql).map((approval) => notifyAgent(room, approval)));
    },
  };
}

function announceDecision(room: RoomState, approval: RoomApproval, byName: string): void {
  extendDeadline(room.sql, approval.runId);
  const decision = approval.status as "approved" | "denied" | "expired";
  queueAudit(room, `approval:${approval.approvalId}`, {
    actor:
      decision === "expired" || !approval.decidedBy
        ? { type: "system", id: "parlor" }
        : { type: "user", id: approval.decidedBy },
    action: `approval.${decision}`,
    target: auditTarget(approval),
  });
  const { message } = appendMessage(
    room.sql,
    { type: "system", id: "parlor", name: "Parlor" },
    {
      text: `${byName} ${decision === "expired" ? "let expire" : decision} ${approval.method} ${approval.url}${
        approval.quorum > 1 && decision === "approved" ? ` (${approval.quorum} of ${approval.quorum} approvals)` : ""
      }`,
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

/** A `wait` policy's expiry decides nothing: the chat is told the request still waits. */
function noticeStillWaiting(room: RoomState, approval: RoomApproval): void {
  postNotice(
    room,
    `approval-waiting:${approval.approvalId}`,
    `The time to decide ${approval.method} ${approval.url} has run out; it keeps waiting for a decision.`,
  );
}

/** A notice by Parlor in the chat, once per key. */
export function postNotice(room: RoomState, clientMessageId: string, text: string): void {
  const { message, created } = appendMessage(
    room.sql,
    { type: "system", id: "parlor", name: "Parlor" },
    { text, clientMessageId },
  );
  if (created) room.broadcast({ type: "message", ...message });
}

/** Never the path or query: a model wrote those and they may carry anything. */
export function auditTarget(approval: Approval): string {
  return `approval:${approval.approvalId} agent:${approval.agentId} ${approval.method} ${originOf(approval.url)}`;
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
