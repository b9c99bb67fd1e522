/**
 * The open chat: its live connection, the conversation with scroll-back (older pages on reaching the top, the
 * reader's place kept), the composer, and the chat's member, agent and search tools.
 */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { AgentState } from "./agent-state";
import { type ChatAgent, type ChatRef, call, client, type OrgRef, session } from "./api";
import { ChatAgents } from "./chat-agents";
import { ChatConnection, type ChatView, emptyView } from "./chat-connection";
import { Composer } from "./composer";
import { noteChatActivity } from "./list-refresh";
import { ChatMemberPicker } from "./members";
import { MessageList } from "./message-list";
import { type ProgressView, watchProgress } from "./progress";
import { ReconnectBanner } from "./reconnect-banner";
import { SearchBox } from "./search";
import { useMarkRead } from "./unread";

export function ChatRoomView({
  chat,
  org,
  onBackups,
  onUpdated,
  onUnread,
}: {
  chat: ChatRef;
  org: OrgRef;
  onBackups: () => void;
  /** The chat was renamed or (un)archived while open: the sidebar reloads. */
  onUpdated: () => void;
  /** How many messages past the reader's cursor the open chat holds (0 while they read at the bottom). */
  onUnread: (unread: number) => void;
}) {
  const [view, setView] = useState<ChatView>(emptyView);
  const [agents, setAgents] = useState<ChatAgent[]>([]);
  const [progress, setProgress] = useState<ProgressView>([]);
  const agentName = (agentId: string) => agents.find((a) => a.agentId === agentId)?.name ?? "agent";
  const [actionError, setActionError] = useState<string | null>(null);
  const connection = useRef<ChatConnection | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  /** Follow new messages while the reader is at the bottom. */
  const atBottom = useRef(true);
  /** The same, as state: reaching the bottom marks the chat read. */
  const [reading, setReading] = useState(true);
  const [readSeq, setReadSeq] = useState(0);
  const newestSeq = view.messages.at(-1)?.seq ?? 0;
  useMarkRead(chat.id, newestSeq, reading && view.connected, (_chatId, seq) => setReadSeq((r) => Math.max(r, seq)));
  useEffect(() => onUnread(readSeq === 0 ? 0 : Math.max(0, newestSeq - readSeq)), [newestSeq, readSeq]);
  const newestAt = view.messages.at(-1)?.createdAt;
  useEffect(() => {
    if (newestAt) noteChatActivity(chat.id, newestAt);
  }, [chat.id, newestAt]);
  /** Where the list stood when older messages were asked for, to keep the reader's place once they are prepended. */
  const anchor = useRef<{ firstSeq: number; height: number; top: number } | null>(null);

  useEffect(() => {
    const live = new ChatConnection(chat.id, setView);
    connection.current = live;
    return () => live.close();
  }, [chat.id]);
  // The progress document follows the chat's socket: once that stopped for good (removed, signed out), so does it.
  const stopped = view.stopped !== null;
  useEffect(() => (stopped ? undefined : watchProgress(chat.id, setProgress)), [chat.id, stopped]);
  useEffect(() => {
    if (view.chat) onUpdated();
  }, [view.chat?.title, view.chat?.archived]);
  const readOnly = view.stopped !== null || view.chat?.archived === true;
  useLayoutEffect(() => {
    const list = scroller.current;
    if (!list) return;
    const firstSeq = view.messages[0]?.seq;
    if (anchor.current && firstSeq !== undefined && firstSeq < anchor.current.firstSeq) {
      list.scrollTop = anchor.current.top + (list.scrollHeight - anchor.current.height);
      anchor.current = null;
    } else if (atBottom.current) {
      list.scrollTop = list.scrollHeight;
    }
    if (!view.loadingEarlier && !view.hasEarlier) anchor.current = null;
  }, [view]);

  function loadEarlier() {
    const list = scroller.current;
    const firstSeq = view.messages[0]?.seq;
    if (!view.hasEarlier || view.loadingEarlier || firstSeq === undefined) return;
    if (list) anchor.current = { firstSeq, height: list.scrollHeight, top: list.scrollTop };
    void connection.current?.loadEarlier();
  }
  function onScroll() {
    const list = scroller.current;
    if (!list) return;
    atBottom.current = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    setReading(atBottom.current);
    // Near the top and not also at the bottom: while catch-up renders, a list barely taller than its box is pinned to
    // the bottom at a scrollTop under 40, which is not the reader asking for more (the control is there for that).
    if (list.scrollTop < 40 && !atBottom.current) loadEarlier();
  }

  async function retry(runId: string) {
    try {
      await call(client.api.chats[":chatId"].runs[":runId"].retry.$post({ param: { chatId: chat.id, runId } }));
      setActionError(null);
    } catch (e) {
      setActionError((e as Error).message);
    }
  }

  async function addMember(userId: string) {
    try {
      await call(client.api.chats[":chatId"].members.$post({ param: { chatId: chat.id }, json: { userId } }));
      setActionError(null);
    } catch (e) {
      setActionError((e as Error).message);
    }
  }

  return (
    <div class="chat">
      <header>
        <h2># {view.chat?.title ?? chat.title}</h2>
        {view.chat?.archived && (
          <span class="status archived" data-testid="archived">
            archived: read-only
          </span>
        )}
        {view.stopped ? (
          <span class="status stopped" data-testid="stopped">
            {view.stopped}
          </span>
        ) : (
          <span class={view.connected ? "status online" : "status offline"}>
            {view.connected ? "live" : "reconnecting…"}
          </span>
        )}
        {view.catchingUp && (
          <span class="status catching-up" data-testid="catching-up">
            catching up…
          </span>
        )}
        <span class="present" data-testid="present">
          here: {view.present.map((u) => u.name).join(", ") || "nobody"}
        </span>
        {org.role === "admin" && (
          <button type="button" class="small-button" onClick={onBackups}>
            Backups
          </button>
        )}
      </header>
      <ReconnectBanner connected={view.connected} stopped={view.stopped !== null} />
      <div class="scroller" ref={scroller} onScroll={onScroll}>
        {view.hasEarlier && (
          <button
            type="button"
            class="small-button load-earlier"
            data-testid="load-earlier"
            disabled={view.loadingEarlier}
            onClick={loadEarlier}
          >
            {view.loadingEarlier ? "loading…" : "load earlier messages"}
          </button>
        )}
        <MessageList
          chat={chat}
          org={org}
          view={view}
          me={session.user()}
          readOnly={readOnly}
          agentName={agentName}
          onRetry={(runId) => void retry(runId)}
          onStop={(runId) => connection.current?.stop(runId)}
          onDecide={(approvalId, decision) => connection.current?.decide(approvalId, decision)}
        />
      </div>
      <p class="typing" data-testid="typing">
        {view.typing.length > 0 ? `${view.typing.map((u) => u.name).join(", ")} typing…` : " "}
      </p>
      {view.error && <p class="error">{view.error}</p>}
      <Composer
        disabled={readOnly}
        onSend={(text) => connection.current?.send(text)}
        onTyping={() => connection.current?.typingNow()}
      />
      <ChatMemberPicker org={org} onAdd={addMember} />
      <ChatAgents chat={chat} org={org} onChange={setAgents} />
      <SearchBox scope={{ chat }} onOpen={(_chat, seq) => showMessage(scroller.current, seq)} />
      <AgentState progress={progress} agentName={agentName} />
      {actionError && <p class="error">{actionError}</p>}
    </div>
  );
}

/** Scrolls a message of the open chat into view and marks it for a moment (when it is loaded). */
function showMessage(list: HTMLElement | null, seq: number): void {
  const item = list?.querySelector<HTMLElement>(`li[data-seq="${seq}"]`);
  if (!item) return;
  item.scrollIntoView({ block: "center" });
  item.classList.add("found");
  setTimeout(() => item.classList.remove("found"), 2000);
}
