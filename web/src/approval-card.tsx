/**
 * An approval request as a card in the chat: what the agent wants to send, the votes so far (who approved, how many
 * the policy needs), who it still waits for, the latest reminder, and the member's own Approve / Deny while they may
 * still vote. The room decides who may vote; the card only hides buttons that would be refused.
 */
import type { RoomEventOf } from "../../protocol/events";
import { namedVoters, stillWaitingFor } from "./approval-waiting";
import type { ApprovalView, ChatView } from "./chat-connection";

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
  return { ...approval, quorum: event.needed, votes: [...approval.votes, vote] };
}

export function ApprovalCard({
  approval,
  agentName,
  me,
  nameOf,
  onDecide,
}: {
  approval: ApprovalView;
  agentName: string;
  me: string | null;
  nameOf: (userId: string) => string;
  onDecide: (decision: "approve" | "deny") => void;
}) {
  const a = approval;
  const quorum = a.quorum ?? 1;
  const approvedBy = a.votes.filter((v) => v.decision === "approve").map((v) => nameOf(v.by));
  const voted = new Set(a.votes.map((v) => v.by));
  const named = namedVoters(a);
  // A vote after the reminder takes its voter off the reminder's list too.
  const waiting = stillWaitingFor(a);
  const mayVote = me !== null && !voted.has(me) && (named === null || named.includes(me));
  return (
    <li class="approval" data-testid="approval">
      <span class="author">{agentName}</span>
      <span class="text">
        wants to send <code>{a.method}</code> <code>{a.url}</code>
        {a.body && <pre>{a.body}</pre>}
        {Object.entries(a.headers).map(([k, v]) => (
          <div key={k} class="header">
            {k}: {v}
          </div>
        ))}
        {(quorum > 1 || a.votes.length > 0) && (
          <div class="votes" data-testid="approval-votes">
            {approvedBy.length} of {quorum} approvals
            {approvedBy.length > 0 && `: approved by ${approvedBy.join(", ")}`}
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
          <strong class={`decision decision-${a.decision}`}>{a.decision}</strong>
        ) : mayVote ? (
          <span class="decide">
            <button type="button" onClick={() => onDecide("approve")}>
              Approve
            </button>
            <button type="button" onClick={() => onDecide("deny")}>
              Deny
            </button>
          </span>
        ) : (
          <em class="waiting">{me !== null && voted.has(me) ? "you voted" : "waiting for others to decide"}</em>
        )}
      </span>
      <time>{a.decision ? "" : `until ${new Date(a.expiresAt).toLocaleTimeString()}`}</time>
    </li>
  );
}

/** A member's name as the chat knows it (present now, or an author in the log); the id otherwise. */
export function nameOfUser(view: ChatView, userId: string): string {
  return (
    view.present.find((u) => u.id === userId)?.name ??
    view.messages.find((m) => m.author.type === "user" && m.author.id === userId)?.author.name ??
    userId
  );
}
