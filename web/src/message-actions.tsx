/**
 * A message's text as the log holds it now (edited, or deleted with no text left), and the actions on it: its author
 * edits and deletes their own messages, an org admin deletes any.
 */
import { useState } from "preact/hooks";
import type { Message } from "../../protocol/chat";
import { call, client } from "./api";
import { Markdown } from "./markdown";

export function MessageText({ message }: { message: Message }) {
  if (message.deletedAt) {
    return (
      <em class="deleted" data-testid="deleted">
        message deleted
      </em>
    );
  }
  return (
    <>
      <Markdown text={message.text} />
      {message.editedAt && (
        <em class="edited" data-testid="edited" title={new Date(message.editedAt).toLocaleString()}>
          {" "}
          (edited)
        </em>
      )}
    </>
  );
}

type Props = { chatId: string; message: Message; me: string | null; admin: boolean };

/** Edit and delete buttons, and the inline editor; changes arrive back as socket events for everyone. */
export function MessageActions({ chatId, message, me, admin }: Props) {
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (message.deletedAt) return null;
  const own = message.author.type === "user" && message.author.id === me;
  if (!own && !admin) return null;
  const target = { param: { chatId, seq: String(message.seq) } };
  async function act(request: () => Promise<unknown>) {
    try {
      await request();
      setEditing(null);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }
  const save = (event: Event) => {
    event.preventDefault();
    const text = editing ?? "";
    if (!text.trim() || text === message.text) return setEditing(null);
    void act(() => call(client.api.chats[":chatId"].messages[":seq"].$patch({ ...target, json: { text } })));
  };
  const remove = () => {
    if (!confirm("Delete this message? Its text will be gone for everyone.")) return;
    void act(() => call(client.api.chats[":chatId"].messages[":seq"].$delete(target)));
  };
  return (
    <span class="message-actions">
      {editing !== null ? (
        <form class="inline edit-message" onSubmit={save}>
          <input
            name="editText"
            value={editing}
            autocomplete="off"
            onInput={(e) => setEditing(e.currentTarget.value)}
            onKeyDown={(e) => e.key === "Escape" && setEditing(null)}
          />
          <button type="submit" class="small-button" data-testid="save-edit">
            save
          </button>
        </form>
      ) : (
        own && (
          <button type="button" class="small-button" data-testid="edit" onClick={() => setEditing(message.text)}>
            edit
          </button>
        )
      )}
      <button type="button" class="small-button" data-testid="delete" onClick={remove}>
        delete
      </button>
      {error && <span class="error"> {error}</span>}
    </span>
  );
}
