/**
 * The sidebar's chats: pick one, create one, and tidy them. The chat's creator and org admins rename and archive
 * the selected chat (archived chats are listed only with "show archived"); admins delete it, after a confirm.
 * Each change reloads the list; the open chat hears renames and archives live (`chat.updated`). Chats are listed by
 * last activity, newest first (the open chat's socket counts before the list hears of it), ties by title.
 */
import { useEffect, useState } from "preact/hooks";
import { type Chat, type ChatRef, call, client, type OrgRef, session } from "./api";
import { byActivity } from "./chat-order";
import { seenChatActivity, useListRefresh } from "./list-refresh";
import { sinceLabel } from "./unread";

export function ChatList({
  org,
  selected,
  version,
  openUnread,
  onSelect,
  onDeleted,
}: {
  org: OrgRef;
  selected: ChatRef | null;
  /** Bumped by the app to reload the list (a restore made a chat, the open chat was renamed). */
  version: number;
  /** The open chat's unread count as its socket sees it, which is newer than the list's. */
  openUnread?: { chatId: string; unread: number } | null;
  onSelect: (chat: ChatRef) => void;
  onDeleted: (chatId: string) => void;
}) {
  const me = session.user();
  const [chats, setChats] = useState<Chat[]>([]);
  const [showArchived, setShowArchived] = useState(false);
  const [reloads, setReloads] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [newTitle, setNewTitle] = useState("");
  const [createTitle, setCreateTitle] = useState("");
  const [renaming, setRenaming] = useState<string | null>(null);
  const reload = () => setReloads((n) => n + 1);
  useListRefresh(reload);

  useEffect(() => {
    const query = showArchived ? { include: "archived" as const } : {};
    call(client.api.orgs[":orgId"].chats.$get({ param: { orgId: org.id }, query })).then(
      (r) => setChats(r.chats),
      (e: Error) => setError(e.message),
    );
  }, [org.id, showArchived, version, reloads]);

  /** Runs a change, then reloads the list; a refusal's message is shown. */
  async function change(action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
      setError(null);
      reload();
    } catch (e) {
      setError((e as Error).message);
    }
  }
  const chatApi = client.api.chats[":chatId"];

  function rename(chat: Chat, event: Event) {
    event.preventDefault();
    const title = newTitle.trim();
    if (!title) return;
    void change(async () => {
      const updated = await call(chatApi.$patch({ param: { chatId: chat.id }, json: { title } }));
      setRenaming(null);
      onSelect({ id: chat.id, title: updated.chat.title });
    });
  }
  function setArchived(chat: Chat, archived: boolean) {
    void change(() => call(chatApi.$patch({ param: { chatId: chat.id }, json: { archived } })));
  }
  function remove(chat: Chat) {
    if (!window.confirm(`Delete "${chat.title}" for everyone? An admin can restore it until it is purged.`)) return;
    void change(async () => {
      await call(chatApi.$delete({ param: { chatId: chat.id } }));
      onDeleted(chat.id);
    });
  }

  function create(event: Event) {
    event.preventDefault();
    const title = createTitle.trim();
    if (!title) return;
    void change(async () => {
      const { id } = await call(client.api.orgs[":orgId"].chats.$post({ param: { orgId: org.id }, json: { title } }));
      setCreateTitle("");
      onSelect({ id, title });
    });
  }

  const mayTidy = (chat: Chat) => org.role === "admin" || chat.createdBy === me;
  const seen = seenChatActivity();
  return (
    <section aria-labelledby="chats-heading">
      <h2 id="chats-heading">Chats</h2>
      <button type="button" class="link small" onClick={reload}>
        refresh
      </button>{" "}
      <label class="small">
        <input
          type="checkbox"
          data-testid="show-archived"
          checked={showArchived}
          onChange={(e) => setShowArchived(e.currentTarget.checked)}
        />{" "}
        show archived
      </label>
      <ul>
        {byActivity(chats, seen).map((chat) => (
          <li key={chat.id} class={selected?.id === chat.id ? "selected" : ""} data-testid="chat-item">
            <button
              type="button"
              class="link"
              aria-current={selected?.id === chat.id ? "true" : undefined}
              onClick={() => onSelect(chat)}
            >
              # {chat.title}
              {chat.archived && <em class="archived"> (archived)</em>}
            </button>
            <ChatActivity
              chat={chat}
              at={latest(chat.lastActivityAt, seen.get(chat.id))}
              unread={openUnread?.chatId === chat.id ? openUnread.unread : chat.unread}
            />
            {selected?.id === chat.id && mayTidy(chat) && (
              <div class="chat-actions">
                {renaming === chat.id ? (
                  <form class="inline" onSubmit={(e) => rename(chat, e)}>
                    <label class="visually-hidden" for="chat-rename">
                      New title for {chat.title}
                    </label>
                    <input
                      id="chat-rename"
                      name="chatRename"
                      value={newTitle}
                      onInput={(e) => setNewTitle(e.currentTarget.value)}
                      onKeyDown={(e) => e.key === "Escape" && setRenaming(null)}
                    />
                    <button type="submit">save</button>
                  </form>
                ) : (
                  <button
                    type="button"
                    class="small-button"
                    data-testid="chat-rename"
                    onClick={() => {
                      setNewTitle(chat.title);
                      setRenaming(chat.id);
                    }}
                  >
                    rename
                  </button>
                )}
                <button
                  type="button"
                  class="small-button"
                  data-testid="chat-archive"
                  onClick={() => setArchived(chat, !chat.archived)}
                >
                  {chat.archived ? "unarchive" : "archive"}
                </button>
                {org.role === "admin" && (
                  <button type="button" class="small-button" data-testid="chat-delete" onClick={() => remove(chat)}>
                    delete
                  </button>
                )}
              </div>
            )}
          </li>
        ))}
      </ul>
      {error && <p class="error">{error}</p>}
      <form class="inline" onSubmit={create}>
        <label class="visually-hidden" for="new-chat-title">
          New chat title
        </label>
        <input
          id="new-chat-title"
          name="chatTitle"
          placeholder="new chat"
          value={createTitle}
          onInput={(e) => setCreateTitle(e.currentTarget.value)}
        />
        <button type="submit" aria-label="Create chat">
          +
        </button>
      </form>
    </section>
  );
}

/** The later of two times (the second may be missing). */
function latest(a: string, b: string | undefined): string {
  return b && Date.parse(b) > Date.parse(a) ? b : a;
}

/** A chat's unread count (when any) and how long ago it last had a message. */
function ChatActivity({ chat, at, unread }: { chat: Chat; at: string; unread: number }) {
  return (
    <span class="chat-activity">
      {unread > 0 && (
        <span class="unread" data-testid="unread" title={`${unread} unread`}>
          {unread}
          <span class="visually-hidden"> unread</span>
        </span>
      )}
      <time dateTime={at} title={`${chat.title}: last message ${new Date(at).toLocaleString()}`}>
        {sinceLabel(at)}
      </time>
    </span>
  );
}
