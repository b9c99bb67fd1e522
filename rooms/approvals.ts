/**
 * Approval requests for tool calls that change the outside world. The room holds the truth: who may decide,
 * and the first decision (an UPDATE that only a pending row passes), so two deciders can never both win.
 */
import type { Approval, ApprovalDecision } from "../protocol/agents";
import { type ApprovalRow, toApproval } from "./rows";

export type ApprovalRequest = Pick<
  Approval,
  "runId" | "agentId" | "toolCallId" | "method" | "url" | "headers" | "body" | "approvers" | "initiator"
> & { timeoutSeconds: number };

/** Stores the request once per tool call (a retried request returns the first one). */
export function createApproval(sql: SqlStorage, request: ApprovalRequest): { approval: Approval; created: boolean } {
  const existing = sql
    .exec<ApprovalRow>(
      "SELECT * FROM approvals WHERE run_id = ? AND tool_call_id = ?",
      request.runId,
      request.toolCallId,
    )
    .toArray()[0];
  if (existing) return { approval: toApproval(existing), created: false };
  const now = new Date();
  const row = sql
    .exec<ApprovalRow>(
      `INSERT INTO approvals (approval_id, run_id, agent_id, tool_call_id, method, url, headers, body, approvers,
         initiator, status, expires_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING *`,
      crypto.randomUUID(),
      request.runId,
      request.agentId,
      request.toolCallId,
      request.method,
      request.url,
      JSON.stringify(request.headers),
      request.body,
      request.approvers,
      request.initiator,
      new Date(now.getTime() + request.timeoutSeconds * 1000).toISOString(),
      now.toISOString(),
    )
    .one();
  return { approval: toApproval(row), created: true };
}

export function getApproval(sql: SqlStorage, approvalId: string): Approval | null {
  const row = sql.exec<ApprovalRow>("SELECT * FROM approvals WHERE approval_id = ?", approvalId).toArray()[0];
  return row ? toApproval(row) : null;
}

export function listApprovals(sql: SqlStorage, status?: Approval["status"]): Approval[] {
  const rows = status
    ? sql.exec<ApprovalRow>("SELECT * FROM approvals WHERE status = ? ORDER BY created_at", status)
    : sql.exec<ApprovalRow>("SELECT * FROM approvals ORDER BY created_at");
  return rows.toArray().map(toApproval);
}

export type Decider = { userId: string; role?: "admin" | "member" };

/** Whether this person may decide, by the tool's policy: by default only the member whose message started the run. */
export function mayDecide(approval: Approval, decider: Decider): boolean {
  if (approval.approvers === "members") return true;
  if (approval.approvers === "admins") return decider.role === "admin";
  return decider.userId === approval.initiator;
}

/**
 * Records the decision if the approval is still pending (and, for a member's decision, not past its expiry even if
 * the expiry alarm is late); null when someone decided first.
 */
export function decide(sql: SqlStorage, approvalId: string, decision: ApprovalDecision, by: string): Approval | null {
  const row = sql
    .exec<ApprovalRow>(
      `UPDATE approvals SET status = ?, decided_by = ?
       WHERE approval_id = ? AND status = 'pending' AND (? = 'expired' OR expires_at > ?) RETURNING *`,
      decision,
      by,
      approvalId,
      decision,
      new Date().toISOString(),
    )
    .toArray()[0];
  return row ? toApproval(row) : null;
}

export function overdueApprovals(sql: SqlStorage, now: Date): Approval[] {
  return sql
    .exec<ApprovalRow>("SELECT * FROM approvals WHERE status = 'pending' AND expires_at <= ?", now.toISOString())
    .toArray()
    .map(toApproval);
}

/** Decided approvals whose agent has not yet acknowledged the decision. */
export function unnotifiedDecisions(sql: SqlStorage): Approval[] {
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
    .exec<{ at: string | null }>("SELECT min(expires_at) AS at FROM approvals WHERE status = 'pending'")
    .one().at;
  return at ? new Date(at) : null;
}

export function hasUnnotifiedDecisions(sql: SqlStorage): boolean {
  return (
    sql.exec("SELECT 1 FROM approvals WHERE status != 'pending' AND agent_notified = 0 LIMIT 1").toArray().length > 0
  );
}

/** A run that ended leaves nothing to decide: its open approvals expire, without telling the agent again. */
export function closeApprovalsOf(sql: SqlStorage, runId: string): void {
  sql.exec(
    "UPDATE approvals SET status = 'expired', decided_by = 'parlor', agent_notified = 1 WHERE run_id = ? AND status = 'pending'",
    runId,
  );
}
