/**
 * A chat's backups, for the org's admins in the chat (the API answers 403 to anyone else): the chat's complete
 * snapshots, newest first, "Back up now", and "Restore into a new chat" per snapshot, which opens the new chat once the
 * server has checked the whole backup. Shown in the main pane when an admin picks "Backups" in a chat's header.
 */
import { useEffect, useState } from "preact/hooks";
import { type ChatRef, call, client, type OrgRef, RequestFailed } from "./api";

type Backup = Awaited<ReturnType<typeof listBackups>>[number];

function listBackups(chatId: string) {
  return call(client.api.chats[":chatId"].backups.$get({ param: { chatId } })).then((r) => r.backups);
}

type Doing = "list" | "backup" | "restore";
const WHAT: Record<Doing, { may: string; failed: string }> = {
  list: { may: "see its backups", failed: "Could not load the backups" },
  backup: { may: "back it up", failed: "The backup failed" },
  restore: { may: "restore its backups", failed: "The restore failed" },
};

/** What a refusal means to the person who clicked, from the contract's error code and the server's own message. */
export function explain(error: unknown, doing: Doing): string {
  if (!(error instanceof RequestFailed)) return `Could not reach Parlor (${(error as Error).message}).`;
  switch (error.code) {
    case "backup_corrupt":
      return `This backup cannot be restored: it is damaged or incomplete (${error.message}). Nothing was created.`;
    case "forbidden":
      return `Only the org's admins who are in this chat can ${WHAT[doing].may} (${error.message}).`;
    case "not_found":
      return `Not found: the chat or the backup is gone, or you are no longer in the chat (${error.message}).`;
    case "unavailable":
      return `Parlor is unavailable for a moment; try again shortly (${error.message}).`;
    default:
      return `${WHAT[doing].failed}: ${error.message}`;
  }
}

const when = (iso: string) => new Date(iso).toLocaleString();
const count = (n: number) => n.toLocaleString("en-US");

export function ChatBackups({
  chat,
  org,
  onBack,
  onRestored,
}: {
  chat: ChatRef;
  org: OrgRef;
  /** Back to the chat itself. */
  onBack: () => void;
  /** A backup was restored into this new chat: open it. */
  onRestored: (chat: ChatRef) => void;
}) {
  const [backups, setBackups] = useState<Backup[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  /** What is in flight: "backup", or the id of the backup being restored. */
  const [busy, setBusy] = useState<string | null>(null);

  async function reload() {
    try {
      setBackups(await listBackups(chat.id));
      setError(null);
    } catch (e) {
      setError(explain(e, "list"));
    }
  }
  useEffect(() => {
    setBackups(null);
    setError(null);
    setNote(null);
    void reload();
  }, [chat.id]);

  async function backUpNow() {
    setBusy("backup");
    setError(null);
    setNote(null);
    try {
      const { backup } = await call(client.api.chats[":chatId"].backups.$post({ param: { chatId: chat.id } }));
      setNote(`Backed up ${count(backup.messages)} messages (up to #${backup.lastSeq}).`);
      await reload();
    } catch (e) {
      setError(explain(e, "backup"));
    } finally {
      setBusy(null);
    }
  }

  async function restore(backup: Backup) {
    setBusy(backup.id);
    setError(null);
    setNote(null);
    try {
      const { id } = await call(
        client.api.orgs[":orgId"].chats.restore.$post({
          param: { orgId: org.id },
          json: { chatId: chat.id, backupId: backup.id },
        }),
      );
      // The server names the new chat; its list has the title (the source's with " (restored)").
      const listed = await call(client.api.orgs[":orgId"].chats.$get({ param: { orgId: org.id }, query: {} })).catch(
        () => null,
      );
      const title = listed?.chats.find((c) => c.id === id)?.title ?? `${chat.title} (restored)`;
      onRestored({ id, title });
    } catch (e) {
      setError(explain(e, "restore"));
      setBusy(null);
    }
  }

  return (
    <section class="admin backups" data-testid="backups" aria-labelledby="backups-title" aria-busy={busy !== null}>
      <p>
        <button type="button" class="small-button" onClick={onBack}>
          ← Back to # {chat.title}
        </button>
      </p>
      <h2 id="backups-title">Backups — # {chat.title}</h2>
      <p class="muted">
        A backup is a snapshot of the whole chat: its messages, summaries, approvals and tool results. Restoring one
        makes a new chat with the same conversation, and you its only member (add others from there); this chat is left
        as it is.
      </p>
      <p class="actions">
        <button type="button" disabled={busy !== null} onClick={() => void backUpNow()}>
          {busy === "backup" ? "Backing up…" : "Back up now"}
        </button>
        <button type="button" class="small-button" disabled={busy !== null} onClick={() => void reload()}>
          refresh
        </button>
      </p>
      <p role="status" class="saved" data-testid="backups-note">
        {note ?? ""}
      </p>
      {error && (
        <p role="alert" class="error" data-testid="backups-error">
          {error}
        </p>
      )}
      {backups === null ? (
        !error && <p>Loading backups…</p>
      ) : backups.length === 0 ? (
        <p class="muted" data-testid="no-backups">
          No backups of this chat yet.
        </p>
      ) : (
        <ul class="backup-list" aria-label="Backups, newest first">
          {backups.map((b) => (
            <li key={b.id} data-backup={b.id}>
              <span class="backup-facts">
                <time dateTime={b.createdAt}>{when(b.createdAt)}</time>
                <span data-testid="backup-messages">
                  {count(b.messages)} {b.messages === 1 ? "message" : "messages"}
                </span>
                <span class="muted">up to #{b.lastSeq}</span>
                <span class="muted" data-testid="backup-size">
                  {size(b.bytes)}
                </span>
              </span>
              <button
                type="button"
                disabled={busy !== null}
                aria-label={`Restore into a new chat: the backup of ${when(b.createdAt)}, ${count(b.messages)} messages`}
                onClick={() => void restore(b)}
              >
                {busy === b.id ? "Restoring…" : "Restore into a new chat"}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** A size in bytes for people: 812 B, 14.2 KB, 3.1 MB. */
function size(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} KB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}
