/**
 * Who an approval card says it still waits for, without the member list: the latest reminder's list (the room's word)
 * or, before one, the named voters (named users, or the initiator); either way less those who have voted since.
 */
import type { ApprovalVote, ApproverSet } from "../../protocol/approval-policy";

export type WaitingInput = {
  approvers: ApproverSet;
  initiator: string;
  votes: ApprovalVote[];
  reminder: { waitingFor: string[] } | null;
};

/** Who may vote, as far as the card can tell: named users, or the initiator; null for members or admins. */
export function namedVoters(approval: Pick<WaitingInput, "approvers" | "initiator">): string[] | null {
  if (typeof approval.approvers === "object") return approval.approvers.users;
  if (approval.approvers === "initiator") return [approval.initiator];
  return null;
}

export function stillWaitingFor(approval: WaitingInput): string[] | null {
  const voted = new Set(approval.votes.map((vote) => vote.by));
  const list = approval.reminder?.waitingFor ?? namedVoters(approval);
  return list ? list.filter((id) => !voted.has(id)) : null;
}
