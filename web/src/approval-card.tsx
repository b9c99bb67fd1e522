/**
 * An approval request as a card in the chat, where the agent asked: what it wants to send (method, URL, body, headers
 * with secrets by name), who may decide under the tool's policy, the votes so far as the room counts them, who it
 * still waits for, the latest reminder, the outcome and who decided, and Approve / Deny for a member the policy
 * allows who has not voted. The room decides who may vote; the card only hides buttons that would be refused.
 */
import { mayDecide } from "../../protocol/approval-policy";
import { stillWaitingFor } from "./approval-waiting";
import type { ApprovalView, ChatView } from "./chat-connection";

/** The longest body a card shows (the rest is counted, not shown): requests may carry up to 64 KiB. */
const BODY_SHOWN = 2_000;

export function ApprovalCard({
  approval,
  agentName,
  me,
  role,
  readOnly,
  nameOf,
  onDecide,
}: {
  approval: ApprovalView;
  agentName: string;
  me: string | null;
  /** The member's org role: an `admins` policy lets only admins decide. */
  role: "admin" | "member";
  readOnly: boolean;
  nameOf: (userId: string) => string;
  onDecide: (decision: "approve" | "deny") => void;
}) {
  const a = approval;
  const quorum = a.quorum ?? 1;
  const approvedBy = a.votes.filter((v) => v.decision === "approve").map((v) => nameOf(v.by));
  const deniedBy = a.votes.filter((v) => v.decision === "deny").map((v) => nameOf(v.by));
  const voted = me !== null && a.votes.some((v) => v.by === me);
  // A vote after the reminder takes its voter off the reminder's list too.
  const waiting = stillWaitingFor(a);
  const allowed = me !== null && mayDecide(a, { userId: me, role });
  const body = a.body ?? "";
  return (
    <li class="approval" data-testid="approval" data-approval-id={a.approvalId}>
      <span class="author">{agentName}</span>
      <span class="text">
        <span class="request">
          wants to send <code data-testid="approval-method">{a.method}</code>{" "}
          <code data-testid="approval-url">{a.url}</code>
        </span>
        {body && (
          <pre class="approval-body" data-testid="approval-body">
            {body.length > BODY_SHOWN
              ? `${body.slice(0, BODY_SHOWN)}\n… (${body.length - BODY_SHOWN} more characters)`
              : body}
          </pre>
        )}
        {Object.entries(a.headers).map(([k, v]) => (
          <div key={k} class="header">
            {k}: {v}
          </div>
        ))}
        <div class="policy" data-testid="approval-policy">
          {policyText(a, nameOf)}
          {quorum > 1 && `; ${quorum} approvals needed`}
        </div>
        <div class="votes" data-testid="approval-votes">
          {a.counted} of {quorum} approvals
          {approvedBy.length > 0 && `: approved by ${approvedBy.join(", ")}`}
        </div>
        {deniedBy.length > 0 && (
          <div class="votes" data-testid="approval-denials">
            denied by {deniedBy.join(", ")}
          </div>
        )}
        {!a.decision && waiting && waiting.length > 0 && (
          <div class="waiting-for" data-testid="approval-waiting">
            waiting for {waiting.map(nameOf).join(", ")}
          </div>
        )}
        {!a.decision && a.reminder && (
          <div class="reminder" data-testid="approval-reminder">
            reminder: decide before {new Date(a.reminder.expiresAt).toLocaleTimeString()}
          </div>
        )}
        {a.decision ? (
          <strong class={`decision decision-${a.decision}`} data-testid="approval-outcome">
            {a.decision === "expired" ? "expired: nobody decided in time" : `${a.decision} by ${nameOf(a.by ?? "")}`}
          </strong>
        ) : allowed && !voted && !readOnly ? (
          <span class="decide">
            <button type="button" onClick={() => onDecide("approve")}>
              Approve
            </button>
            <button type="button" onClick={() => onDecide("deny")}>
              Deny
            </button>
          </span>
        ) : (
          <em class="waiting">{voted ? "you voted" : "waiting for others to decide"}</em>
        )}
      </span>
      <time>{a.decision ? "" : `until ${new Date(a.expiresAt).toLocaleTimeString()}`}</time>
    </li>
  );
}

/** Who the tool's policy lets decide, in words. */
function policyText(a: Pick<ApprovalView, "approvers" | "initiator">, nameOf: (userId: string) => string): string {
  if (typeof a.approvers === "object") return `decided by ${a.approvers.users.map(nameOf).join(", ")}`;
  if (a.approvers === "members") return "any member of the chat decides";
  if (a.approvers === "admins") return "an org admin decides";
  return `decided by ${nameOf(a.initiator)}, who asked`;
}

/** A member's name as the chat knows it (present now, or an author in the log); the id otherwise. */
export function nameOfUser(view: ChatView, userId: string): string {
  return (
    view.present.find((u) => u.id === userId)?.name ??
    view.messages.find((m) => m.author.type === "user" && m.author.id === userId)?.author.name ??
    userId
  );
}
