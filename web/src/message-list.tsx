/**
 * The conversation as a list: stored messages in seq order, the replies agents are still writing, approval cards,
 * and the sender's own messages not yet stored.
 */
import type { ChatRef, OrgRef } from "./api";
import { ApprovalCard, nameOfUser } from "./approval-card";
import { ArtifactLink } from "./artifact-link";
import type { ChatView } from "./chat-connection";
import { MessageActions, MessageText } from "./message-actions";

export type MessageListProps = {
  chat: ChatRef;
  org: OrgRef;
  view: ChatView;
  me: string | null;
  agentName: (agentId: string) => string;
  onRetry: (runId: string) => void;
  onStop: (runId: string) => void;
  onDecide: (approvalId: string, decision: "approve" | "deny") => void;
};

export function MessageList({ chat, org, view, me, agentName, onRetry, onStop, onDecide }: MessageListProps) {
  return (
    <ol class="messages" data-testid="messages">
      {view.messages.map((m) => (
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
            {m.runId && (m.stopped || m.author.type === "system") && (
              <button type="button" class="small-button" data-testid="retry" onClick={() => onRetry(m.runId as string)}>
                retry
              </button>
            )}
            <MessageActions chatId={chat.id} message={m} me={me} admin={org.role === "admin"} />
            <time>{new Date(m.createdAt).toLocaleTimeString()}</time>
          </span>
        </li>
      ))}
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
            <button type="button" class="small-button" data-testid="stop" onClick={() => onStop(run.runId)}>
              stop
            </button>
            <time>writing…</time>
          </span>
        </li>
      ))}
      {view.approvals.map((a) => (
        <ApprovalCard
          key={a.approvalId}
          approval={a}
          agentName={agentName(a.agentId)}
          me={me}
          nameOf={(id) => nameOfUser(view, id)}
          onDecide={(decision) => onDecide(a.approvalId, decision)}
        />
      ))}
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
