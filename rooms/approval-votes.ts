/**
 * Members' votes on approvals, one per member per approval (a unique index, so a second vote cannot slip in). The
 * approval's status is still decided in `approvals.ts`: votes only say when the quorum or a denial has been reached.
 */
import type { ApprovalVote } from "../protocol/approval-policy";
import { isRevoked } from "./revocation";
import type { RoomApproval } from "./rows";

type VoteRow = { approval_id: string; user_id: string; decision: ApprovalVote["decision"]; at: string };

/** Stores the vote; false when this member already voted on it. */
export function castVote(
  sql: SqlStorage,
  approvalId: string,
  userId: string,
  decision: ApprovalVote["decision"],
  now: Date,
): boolean {
  return (
    sql
      .exec(
        `INSERT INTO approval_votes (approval_id, user_id, decision, at) VALUES (?, ?, ?, ?)
         ON CONFLICT (approval_id, user_id) DO NOTHING RETURNING 1`,
        approvalId,
        userId,
        decision,
        now.toISOString(),
      )
      .toArray().length > 0
  );
}

export function votesOf(sql: SqlStorage, approvalId: string): ApprovalVote[] {
  return sql
    .exec<VoteRow>("SELECT * FROM approval_votes WHERE approval_id = ? ORDER BY at, rowid", approvalId)
    .toArray()
    .map((row) => ({ by: row.user_id, decision: row.decision, at: row.at }));
}

/** The approval with its votes, and how many of them count toward its quorum now. */
export function withVotes(sql: SqlStorage, approval: RoomApproval): RoomApproval {
  const votes = votesOf(sql, approval.approvalId);
  return { ...approval, votes, counted: countedApprovals(sql, approval, votes) };
}

/**
 * Approving votes that still count toward the quorum: a voter removed from the chat (or the org) since, or an admin
 * demoted since under an `admins` policy, is no longer one of the approvers; the vote stays on record but no longer
 * helps reach the quorum.
 */
export function countedApprovals(
  sql: SqlStorage,
  approval: { approvers: RoomApproval["approvers"] },
  votes: ApprovalVote[],
): number {
  const stillAllowed = (userId: string) =>
    !isRevoked(sql, userId) && (approval.approvers !== "admins" || !wasDemoted(sql, userId));
  return votes.filter((vote) => vote.decision === "approve" && stillAllowed(vote.by)).length;
}

/** A member's org role as last heard (the App API's announcement, or a vote): not admin is kept, admin clears it. */
export function noteRole(sql: SqlStorage, userId: string, role: "admin" | "member"): void {
  if (role === "admin") sql.exec("DELETE FROM demoted_admins WHERE user_id = ?", userId);
  else
    sql.exec(
      "INSERT INTO demoted_admins (user_id, demoted_at) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING",
      userId,
      new Date().toISOString(),
    );
}

function wasDemoted(sql: SqlStorage, userId: string): boolean {
  return sql.exec("SELECT 1 FROM demoted_admins WHERE user_id = ?", userId).toArray().length > 0;
}

/** For a backup: an approval's votes travel in its row of the approvals object (old backups have none). */
export function withBackupVotes<Row extends Record<string, unknown>>(
  sql: SqlStorage,
  row: Row,
): Row & { votes: VoteRow[] } {
  const votes = sql
    .exec<VoteRow>("SELECT * FROM approval_votes WHERE approval_id = ? ORDER BY at, rowid", String(row.approval_id))
    .toArray();
  return { ...row, votes };
}

/** Puts back the votes a backup's approval row carries, ignoring anything that is not a vote. */
export function restoreVotes(sql: SqlStorage, approvalId: string, carried: unknown): void {
  if (!Array.isArray(carried)) return;
  for (const vote of carried as Partial<VoteRow>[]) {
    if (typeof vote?.user_id !== "string" || typeof vote.at !== "string" || Number.isNaN(Date.parse(vote.at))) continue;
    if (vote.decision !== "approve" && vote.decision !== "deny") continue;
    castVote(sql, approvalId, vote.user_id, vote.decision, new Date(vote.at));
  }
}
