/**
 * Approval requests for tool calls that change the outside world. The room holds the truth: who may decide,
 * and the first decision (an UPDATE that only a pending row passes), so two deciders can never both win.
 */
import type { Approval, ApprovalDecision } from "../protocol/agents";
import { REMIND_AT_SHARE } from "../protocol/approval-policy";
import { withVotes } from "./approval-votes";
import { lastSeq } from "./message-log";
import { type ApprovalRow, type RoomApproval, toApproval } from "./rows";

export { type Decider, mayDecide } from "../protocol/approval-policy";

export type ApprovalRequest = Pick<
  Approval,
  "runId" | "agentId" | "toolCallId" | "method" | "url" | "headers" | "body" | "approvers" | "initiator"
> & { timeoutSeconds: number; quorum?: number; onExpiry?: Approval["onExpiry"] };

/** A pending `wait` approval whose expiry was announced: nothing is due for it any more but a decision. */
const STILL_DUE = "NOT (coalesce(on_expiry, 'deny') = 'wait' AND coalesce(expiry_noticed, 0) = 1)";

/** Stores the request once per tool call (a retried request returns the first one). */
export function createApproval(
  sql: SqlStorage,
  request: ApprovalRequest,
): { approval: RoomApproval; created: boolean } {
  const existing = sql
    .exec<ApprovalRow>(
      "SELECT * FROM approvals WHERE run_id = ? AND tool_call_id = ?",
      request.runId,
      request.toolCallId,
    )
    .toArray()[0];
  if (existing) return { approval: withVotes(sql, toApproval(existing)), created: false };
  const now = new Date();
  const named = typeof request.approvers === "object" ? request.approvers.users : null;
  const row = sql
    .exec<ApprovalRow>(
      `INSERT INTO approvals (approval_id, run_id, agent_id, tool_call_id, method, url, headers, body, approvers,
         initiator, status, expires_at, created_at, approver_users, quorum, on_expiry, remind_at, after_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      crypto.randomUUID(),
      request.runId,
      request.agentId,
      request.toolCallId,
      request.method,
      request.url,
      JSON.stringify(request.headers),
      request.body,
      named ? "users" : request.approvers,
      request.initiator,
      new Date(now.getTime() + request.timeoutSeconds * 1000).toISOString(),
      now.toISOString(),
      named ? JSON.stringify(named) : null,
      request.quorum ?? null,
      request.onExpiry ?? null,
      new Date(now.getTime() + request.timeoutSeconds * 1000 * REMIND_AT_SHARE).toISOString(),
      lastSeq(sql),
    )
    .one();
  return { approval: toApproval(row), created: true };
}

export function getApproval(sql: SqlStorage, approvalId: string): RoomApproval | null {
  const row = sql.exec<ApprovalRow>("SELECT * FROM approvals WHERE approval_id = ?", approvalId).toArray()[0];
  return row ? withVotes(sql, toApproval(row)) : null;
}

export function listApprovals(sql: SqlStorage, status?: Approval["status"]): RoomApproval[] {
  const rows = status
    ? sql.exec<ApprovalRow>("SELECT * FROM approvals WHERE status = ? ORDER BY created_at", status)
    : sql.exec<ApprovalRow>("SELECT * FROM approvals ORDER BY created_at");
  return rows.toArray().map((row) => withVotes(sql, toApproval(row)));
}

/** Still open to votes: pending, and not past its expiry unless the policy keeps it waiting. */
export function openForVotes(approval: RoomApproval, now: Date): boolean {
  if (approval.status !== "pending") return false;
  return approval.onExpiry === "wait" || new Date(approval.expiresAt) > now;
}

/**
 * Records the decision if the approval is still pending (and, for a member's decision, not past its expiry even if
 * the expiry alarm is late, unless the policy keeps it waiting); null when someone decided first.
 */
export function decide(
  sql: SqlStorage,
  approvalId: string,
  decision: ApprovalDecision,
  by: string,
): RoomApproval | null {
  const row = sql
    .exec<ApprovalRow>(
      `UPDATE approvals SET status = ?, decided_by = ?
       WHERE approval_id = ? AND status = 'pending' AND (? = 'expired' OR expires_at > ? OR on_expiry = 'wait')
       RETURNING *`,
      decision,
      by,
      approvalId,
      decision,
      new Date().toISOString(),
    )
    .toArray()[0];
  return row ? withVotes(sql, toApproval(row)) : null;
}

/** Pending past their expiry, and not already announced as waiting on. */
export function overdueApprovals(sql: SqlStorage, now: Date): RoomApproval[] {
  return sql
    .exec<ApprovalRow>(
      `SELECT * FROM approvals WHERE status = 'pending' AND expires_at <= ? AND ${STILL_DUE}`,
      now.toISOString(),
    )
    .toArray()
    .map(toApproval);
}

/** A `wait` approval past its expiry has been announced; true the first time only. */
export function markExpiryNoticed(sql: SqlStorage, approvalId: string): boolean {
  return (
    sql
      .exec(
        "UPDATE approvals SET expiry_noticed = 1 WHERE approval_id = ? AND status = 'pending' AND expiry_noticed IS NOT 1 RETURNING 1",
        approvalId,
      )
      .toArray().length > 0
  );
}

/** Decided approvals whose agent has not yet acknowledged the decision. */
export function unnotifiedDecisions(sql: SqlStorage): RoomApproval[] {
  return sql
    .exec<ApprovalRow>("SELECT * FROM approvals WHERE status != 'pending' AND agent_notified = 0")
    .toArray()
    .map(toApproval);
}

export function markNotified(sql: SqlStorage, approvalId: string): void {
  sql.exec("UPDATE approvals SET agent_notified = 1 WHERE approval_id = ?", approvalId);
}

/** The earliest expiry of an approval still pending. */
export function nextExpiry(sql: SqlStorage): Date | null {
  const at = sql
    .exec<{ at: string | null }>(
      `SELECT min(expires_at) AS at FROM approvals WHERE status = 'pending' AND ${STILL_DUE}`,
    )
    .one().at;
  return at ? new Date(at) : null;
}

export function hasUnnotifiedDecisions(sql: SqlStorage): boolean {
  return (
    sql.exec("SELECT 1 FROM approvals WHERE status != 'pending' AND agent_notified = 0 LIMIT 1").toArray().length > 0
  );
}

/**
 * A run that ended leaves nothing to decide: its open approvals expire, without telling the agent again. Returns
 * them, for the chat and the audit log.
 */
export function closeApprovalsOf(sql: SqlStorage, runId: string): Approval[] {
  return sql
    .exec<ApprovalRow>(
      `UPDATE approvals SET status = 'expired', decided_by = 'parlor', agent_notified = 1
       WHERE run_id = ? AND status = 'pending' RETURNING *`,
      runId,
    )
    .toArray()
    .map(toApproval);
}
