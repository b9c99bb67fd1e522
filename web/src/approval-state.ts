/**
 * An approval card's state as the room tells it (the request, each vote, a reminder, the decision, or a row of
 * `GET …/approvals`), and where each card sits in the conversation. The count shown is always the room's (`counted`,
 * a vote's `votes`): a voter removed or demoted since keeps a vote on record that the room no longer counts.
 */
import type { Approval } from "../../protocol/agents";
import type { Message } from "../../protocol/chat";
import type { RoomEventOf } from "../../protocol/events";
import type { ApprovalView } from "./chat-connection";

/** A request as the socket sends it (first, again on connect, or again when its count changed without a vote). */
export function fromRequested(event: RoomEventOf<"approval.requested">, known: ApprovalView | undefined): ApprovalView {
  const { type: _type, ...request } = event;
  const votes = request.votes ?? [];
  return {
    ...request,
    votes,
    counted: request.counted ?? votes.filter((vote) => vote.decision === "approve").length,
    decision: known?.decision ?? null,
    by: known?.by ?? null,
    reminder: known?.reminder ?? null,
  };
}

/**
 * A row of `GET …/approvals`, unless what the socket already told is newer: a decision is final, and a list read
 * before a vote arrived must not take it back.
 */
export function fromListed(approval: Approval, known: ApprovalView | undefined): ApprovalView {
  const votes = approval.votes ?? [];
  if (known && (known.decision !== null || known.votes.length > votes.length)) return known;
  return {
    approvalId: approval.approvalId,
    runId: approval.runId,
    agentId: approval.agentId,
    method: approval.method,
    url: approval.url,
    headers: approval.headers,
    body: approval.body,
    expiresAt: approval.expiresAt,
    approvers: approval.approvers,
    initiator: approval.initiator,
    quorum: approval.quorum,
    onExpiry: approval.onExpiry,
    afterSeq: approval.afterSeq,
    votes,
    counted: approval.counted ?? votes.filter((vote) => vote.decision === "approve").length,
    decision: approval.status === "pending" ? null : approval.status,
    by: approval.decidedBy,
    reminder: known?.reminder ?? null,
  };
}

/** Applies a vote or a reminder to the card's state (a repeated vote event changes nothing). */
export function withApprovalEvent(
  approval: ApprovalView,
  event: RoomEventOf<"approval.vote"> | RoomEventOf<"approval.reminder">,
): ApprovalView {
  if (event.type === "approval.reminder") {
    return { ...approval, reminder: { expiresAt: event.expiresAt, waitingFor: event.waitingFor } };
  }
  if (approval.votes.some((vote) => vote.by === event.by)) return approval;
  const vote = { by: event.by, decision: event.decision, at: new Date().toISOString() };
  return { ...approval, quorum: event.needed, counted: event.votes, votes: [...approval.votes, vote] };
}

/** Where cards go: after the message with that seq, or at the end of the list (`end`). */
export type Placement = { after: Map<number, ApprovalView[]>; end: ApprovalView[] };

/**
 * Each card goes after the message that was the chat's last when the agent asked (`afterSeq`); one stored before the
 * room recorded that goes just before its decision notice. A card whose place is not loaded (older history) waits
 * for scroll-back, unless it still waits for a decision: then it shows at the end, so nobody misses it.
 */
export function placeApprovals(messages: Message[], approvals: ApprovalView[]): Placement {
  const placement: Placement = { after: new Map(), end: [] };
  const first = messages[0]?.seq;
  const last = messages.at(-1)?.seq;
  const noticeSeq = new Map<string, number>();
  for (const message of messages) {
    if (message.author.type === "system" && message.clientMessageId?.startsWith("approval:")) {
      noticeSeq.set(message.clientMessageId.slice("approval:".length), message.seq);
    }
  }
  for (const approval of approvals) {
    const notice = noticeSeq.get(approval.approvalId);
    const seq = approval.afterSeq ?? (notice === undefined ? undefined : notice - 1);
    const loaded = seq !== undefined && first !== undefined && last !== undefined && seq >= first - 1 && seq <= last;
    if (loaded && seq >= first) {
      placement.after.set(seq, [...(placement.after.get(seq) ?? []), approval]);
    } else if (loaded) {
      // Asked before the first message shown, which is the chat's first: at the very top.
      placement.after.set(0, [...(placement.after.get(0) ?? []), approval]);
    } else if (approval.decision === null) {
      placement.end.push(approval);
    }
  }
  return placement;
}
