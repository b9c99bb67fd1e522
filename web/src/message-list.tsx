/**
 * The conversation as a list: stored messages in seq order with each approval card where the agent asked, the
 * replies agents are still writing (stop for the member who started the run and org admins), and the sender's own
 * messages not yet stored. Retry is offered on a stopped or failed run's message (any member may retry).
 */
import type { ChatRef, OrgRef } from "./api";
import { ApprovalCard, nameOfUser } from "./approval-card";
import { placeApprovals } from "./approval-state";
import { ArtifactLink } from "./artifact-link";
import type { ApprovalView, ChatView, LiveRun } from "./chat-connection";
import { MessageActions, MessageText } from "./message-actions";

export type MessageListProps = {
  chat: ChatRef;
  org: OrgRef;
  view: ChatView;
  me: string | null;
  /** Archived, or the connection stopped for good: nothing can be decided, stopped or retried. */
  readOnly: boolean;
  agentName: (agentId: string) => string;
  onRetry: (runId: string) => void;
  onStop: (runId: string) => void;
  onDecide: (approvalId: string, decision: "approve" | "deny") => void;
};

export function MessageList(props: MessageListProps) {
  const { chat, org, view, me, readOnly, agentName, onRetry, onStop } = props;
  const placement = placeApprovals(view.messages, view.approvals);
  const cards = (approvals: ApprovalView[] | undefined) =>
    approvals?.map((a) => <Card key={a.approvalId} approval={a} {...props} />);
  const mayStop = (run: LiveRun) => !readOnly && (org.role === "admin" || (me !== null && run.initiator === me));
  return (
    <ol class="messages" data-testid="messages">
      {cards(placement.after.get(0))}
      {view.messages.flatMap((m) => [
        <li key={m.seq} data-seq={m.seq} class={`author-${m.author.type}`}>
          <span class="author">{m.author.name ?? m.author.id}</span>
          <span class="text">
            <MessageText message={m} />
            {m.stopped && <em class="stopped"> (stopped)</em>}
            {m.artifactIds?.map((id) => (
              <ArtifactLink key={id} chatId={chat.id} artifactId={id} />
            ))}
          </span>
          <span class="meta">
            {m.runId && (m.stopped || m.author.type === "system") && !readOnly && (
              <button type="button" class="small-button" data-testid="retry" onClick={() => onRetry(m.runId as string)}>
                retry
              </button>
            )}
            <MessageActions chatId={chat.id} message={m} me={me} admin={org.role === "admin"} />
            <time>{new Date(m.createdAt).toLocaleTimeString()}</time>
          </span>
        </li>,
        ...(cards(placement.after.get(m.seq)) ?? []),
      ])}
      {view.runs.map((run) => (
        <li key={run.runId} class="streaming" data-testid="streaming">
          <span class="author">{agentName(run.agentId)}</span>
          <span class="text">
            {run.tools.map((t) => (
              <span key={t.toolCallId} class={`tool tool-${t.status}`} data-testid="tool">
                {t.name} · {t.status.replace("_", " ")}
              </span>
            ))}
            {run.text || (run.tools.length ? "" : "…")}
          </span>
          <span class="meta">
            {mayStop(run) && (
              <button type="button" class="small-button" data-testid="stop" onClick={() => onStop(run.runId)}>
                stop
              </button>
            )}
            <time>writing…</time>
          </span>
        </li>
      ))}
      {cards(placement.end)}
      {view.pending.map((p) => (
        <li key={p.clientMessageId} class="pending">
          <span class="author">you</span>
          <span class="text">{p.text}</span>
          <time>sending…</time>
        </li>
      ))}
    </ol>
  );
}

function Card({
  approval,
  org,
  view,
  me,
  readOnly,
  agentName,
  onDecide,
}: MessageListProps & { approval: ApprovalView }) {
  return (
    <ApprovalCard
      approval={approval}
      agentName={agentName(approval.agentId)}
      me={me}
      role={org.role}
      readOnly={readOnly}
      nameOf={(id) => nameOfUser(view, id)}
      onDecide={(decision) => onDecide(approval.approvalId, decision)}
    />
  );
}
