/**
 * The Parlor web client: sign in (Clerk's sign-in when `GET /api/config` names a publishable key, development
 * sign-in when it allows that), pick an org and a chat, and talk.
 */
import type { Clerk } from "@clerk/clerk-js";
import { render } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { AdminNav, AdminScreen, type AdminScreenName, isAdminScreen } from "./admin";
import { AgentState } from "./agent-state";
import { type Artifact, type ChatAgent, type ChatRef, call, client, type OrgRef, session } from "./api";
import { ApprovalCard, nameOfUser } from "./approval-card";
import { ChatBackups } from "./backups";
import { OrgBilling } from "./billing";
import { ChatAgents } from "./chat-agents";
import { ChatConnection, type ChatView, emptyView } from "./chat-connection";
import { ChatList } from "./chat-list";
import { Composer } from "./composer";
import { noteChatActivity } from "./list-refresh";
import { Marketplace } from "./marketplace";
import { ChatMemberPicker, SidebarMembers } from "./members";
import { MembersScreen } from "./members-screen";
import { MessageActions, MessageText } from "./message-actions";
import { OrgList } from "./org-list";
import { OrgRename } from "./org-rename";
import { type ProgressView, watchProgress } from "./progress";
import { ReconnectBanner } from "./reconnect-banner";
import { SearchBox } from "./search";
import { useMarkRead } from "./unread";

type SignInMode = { kind: "dev" } | { kind: "clerk"; clerk: Clerk } | { kind: "none" };

/** Asks the server how to sign in; Clerk's code is fetched only when a publishable key is named. */
function Root() {
  const [mode, setMode] = useState<SignInMode | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    // Asked again (1 s doubling to 30 s) while the server cannot answer, say while a dev server reloads.
    async function load(delay: number): Promise<void> {
      try {
        const { clerkPublishableKey, devSignIn } = await call(client.api.config.$get());
        if (clerkPublishableKey) {
          const { startClerk } = await import("./clerk");
          const clerk = await startClerk(clerkPublishableKey);
          if (!cancelled) setMode({ kind: "clerk", clerk });
        } else if (!cancelled) setMode(devSignIn ? { kind: "dev" } : { kind: "none" });
      } catch (e) {
        if (cancelled) return;
        setError((e as Error).message);
        setTimeout(() => void load(Math.min(delay * 2, 30_000)), delay);
      }
    }
    void load(1000);
    return () => {
      cancelled = true;
    };
  }, []);
  if (!mode)
    return error ? (
      <p class="error">Could not load the sign-in configuration ({error}); trying again…</p>
    ) : (
      <p class="hint">Loading…</p>
    );
  return <App mode={mode} />;
}

function App({ mode }: { mode: SignInMode }) {
  const [user, setUser] = useState(session.user());
  const [org, setOrg] = useState<OrgRef | null>(null);
  const [chat, setChat] = useState<ChatRef | null>(null);
  /** What the main pane shows: the selected chat, its backups, the members screen, or an admin screen. */
  const [pane, setPane] = useState<"chat" | "backups" | "billing" | "marketplace" | "members" | AdminScreenName>(
    "chat",
  );
  /** Bumped to reload the chat list (after a restore made a chat). */
  const [chatsVersion, setChatsVersion] = useState(0);
  /** Bumped to reload the org list (after leaving an org or a role change). */
  const [orgsVersion, setOrgsVersion] = useState(0);
  /** The open chat's unread count as its socket sees it (the list's own count trails the room by a batch). */
  const [openUnread, setOpenUnread] = useState<{ chatId: string; unread: number } | null>(null);
  const signOut = () => {
    session.clear();
    setUser(null);
    setOrg(null);
    setChat(null);
    setPane("chat");
  };
  // A request refused as unauthenticated (an expired token) clears the session: back to sign-in.
  useEffect(() => session.onSignedOut(signOut), []);
  // Under Clerk, its session decides who is signed in (its sign-in form, its sign-out, another tab).
  useEffect(() => {
    if (mode.kind !== "clerk") return;
    return mode.clerk.addListener(({ user: signedIn }) => setUser(signedIn?.id ?? null));
  }, [mode]);
  if (!user) {
    if (mode.kind === "clerk") return <ClerkSignIn clerk={mode.clerk} />;
    if (mode.kind === "dev") return <SignIn onSignedIn={setUser} />;
    return <p class="hint">This server has no sign-in configured (no Clerk publishable key).</p>;
  }
  return (
    <div class="layout">
      <aside>
        <header>
          <strong>Parlor</strong>
          <span class="who">
            {user}{" "}
            <button type="button" onClick={signOut}>
              sign out
            </button>
          </span>
        </header>
        <OrgList
          key={orgsVersion}
          selected={org}
          onSelect={(o) => {
            setOrg(o);
            setChat(null);
            setPane("chat");
          }}
          onCreated={(o) => {
            setOrg(o);
            setChat(null);
            setPane("members");
          }}
        />
        {org && (
          <ChatList
            key={org.id}
            version={chatsVersion}
            org={org}
            selected={pane === "chat" || pane === "backups" ? chat : null}
            openUnread={openUnread}
            onSelect={(c) => {
              setChat(c);
              setPane("chat");
            }}
            onDeleted={(id) => {
              if (chat?.id === id) setChat(null);
            }}
          />
        )}
        {org && (
          <SearchBox
            key={org.id}
            scope={{ org }}
            onOpen={(c) => {
              setChat(c);
              setPane("chat");
            }}
          />
        )}
        {org && <SidebarMembers key={org.id} org={org} onOpen={() => setPane("members")} />}
        {org?.role === "admin" && (
          <section>
            <h2>Admin</h2>
            <OrgRename
              key={org.id}
              org={org}
              onRenamed={(name) => {
                setOrg({ ...org, name });
                setOrgsVersion((v) => v + 1);
              }}
            />
            <ul>
              <li class={pane === "billing" ? "selected" : ""}>
                <button type="button" class="link" onClick={() => setPane("billing")}>
                  Billing & usage
                </button>
              </li>
            </ul>
            <AdminNav pane={pane} onOpen={setPane} />
          </section>
        )}
        <section>
          <button type="button" class="link" data-testid="open-marketplace" onClick={() => setPane("marketplace")}>
            Marketplace
          </button>
        </section>
      </aside>
      <main>
        {pane === "marketplace" ? (
          <Marketplace key={org?.id ?? ""} org={org} />
        ) : org && pane === "members" ? (
          <MembersScreen
            key={org.id}
            org={org}
            onOpenBilling={() => setPane("billing")}
            onRoleChanged={(role) => {
              setOrg({ ...org, role });
              setOrgsVersion((v) => v + 1);
            }}
            onLeft={() => {
              setOrg(null);
              setChat(null);
              setPane("chat");
              setOrgsVersion((v) => v + 1);
            }}
          />
        ) : org && isAdminScreen(pane) ? (
          <AdminScreen org={org} screen={pane} />
        ) : org && pane === "billing" ? (
          <OrgBilling key={org.id} org={org} />
        ) : chat && org && pane === "backups" ? (
          <ChatBackups
            key={chat.id}
            chat={chat}
            org={org}
            onBack={() => setPane("chat")}
            onRestored={(restored) => {
              setChat(restored);
              setPane("chat");
              setChatsVersion((v) => v + 1);
            }}
          />
        ) : chat && org ? (
          <ChatRoomView
            key={chat.id}
            chat={chat}
            org={org}
            onBackups={() => setPane("backups")}
            onUpdated={() => setChatsVersion((v) => v + 1)}
            onUnread={(unread) => setOpenUnread({ chatId: chat.id, unread })}
          />
        ) : (
          <p class="hint">Pick or create a chat.</p>
        )}
      </main>
    </div>
  );
}

/** Clerk's own sign-in component, mounted into a div of ours. */
function ClerkSignIn({ clerk }: { clerk: Clerk }) {
  const node = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const div = node.current;
    if (!div) return;
    clerk.mountSignIn(div);
    return () => clerk.unmountSignIn(div);
  }, [clerk]);
  return (
    <div class="sign-in">
      <h1>Parlor</h1>
      <div ref={node} />
    </div>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (userId: string) => void }) {
  const [userId, setUserId] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    try {
      const body = name.trim() ? { userId, name } : { userId };
      const { token } = await call(client.api.dev.token.$post({ json: body }));
      session.save(token, userId);
      onSignedIn(userId);
    } catch (e) {
      setError((e as Error).message);
    }
  }
  return (
    <form class="sign-in" onSubmit={submit}>
      <h1>Parlor</h1>
      <p>Development sign-in: pick any user id.</p>
      <label for="sign-in-user">User id</label>
      <input
        id="sign-in-user"
        name="userId"
        autocomplete="username"
        placeholder="e.g. alice"
        value={userId}
        onInput={(e) => setUserId(e.currentTarget.value)}
      />
      <label for="sign-in-name">Display name (optional)</label>
      <input
        id="sign-in-name"
        name="name"
        autocomplete="name"
        placeholder="e.g. Alice"
        value={name}
        onInput={(e) => setName(e.currentTarget.value)}
      />
      <button type="submit">Sign in</button>
      {error && <p class="error">{error}</p>}
    </form>
  );
}

/** A tool result the reply used, opened on demand. */
function ArtifactLink({ chatId, artifactId }: { chatId: string; artifactId: string }) {
  const [artifact, setArtifact] = useState<Artifact | null>(null);
  const [error, setError] = useState<string | null>(null);
  async function open() {
    if (artifact) return setArtifact(null);
    try {
      const result = await call(
        client.api.chats[":chatId"].artifacts[":artifactId"].$get({ param: { chatId, artifactId } }),
      );
      setArtifact(result.artifact);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }
  return (
    <span class="artifact">
      <button type="button" class="small-button" onClick={open} data-testid="artifact">
        {artifact ? "hide result" : "show result"}
      </button>
      {artifact && (
        <pre>
          {artifact.status} {artifact.contentType}
          {"\n"}
          {artifact.body}
          {artifact.truncated ? "\n… (truncated)" : ""}
        </pre>
      )}
      {error && <span class="error"> {error}</span>}
    </span>
  );
}

function ChatRoomView({
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
                  <button
                    type="button"
                    class="small-button"
                    data-testid="retry"
                    onClick={() => void retry(m.runId as string)}
                  >
                    retry
                  </button>
                )}
                <MessageActions chatId={chat.id} message={m} me={session.user()} admin={org.role === "admin"} />
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
                <button
                  type="button"
                  class="small-button"
                  data-testid="stop"
                  onClick={() => connection.current?.stop(run.runId)}
                >
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
              me={session.user()}
              nameOf={(id) => nameOfUser(view, id)}
              onDecide={(decision) => connection.current?.decide(a.approvalId, decision)}
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

render(<Root />, document.getElementById("app") as HTMLElement);
