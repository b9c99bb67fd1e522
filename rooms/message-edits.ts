/**
 * Editing and deleting messages in the log. The seq stays: a deleted message is a tombstone with no text, so the log
 * stays gap-free and backups exact. Its words are made gone, not hidden: the row's text is first overwritten in place
 * with filler of the same size (SQLite rewrites a cell of unchanged size where it lies, so the old bytes are not left
 * in the page's free space; `PRAGMA secure_delete` is not allowed in a Durable Object), then emptied; the search
 * index drops them through its trigger, and a run's saved partial text goes when the message is its reply.
 * Every change is audited through the outbox, never with the text.
 */
import type { Message } from "../protocol/chat";
import { queueAudit } from "./audit-outbox";
import { closedFor, closedMessages } from "./chat-lifecycle";
import { appendMessage } from "./message-log";
import { cachedChat, type RoomState } from "./room-state";
import { type MessageRow, toMessage } from "./rows";
import { latestSummary } from "./summaries";
import { noteSummariesRebuilt } from "./summary-freshness";

export type Editor = { userId: string; name: string; role?: "admin" | "member" };
export type EditRefusal = { error: "not_found" | "forbidden" | "conflict"; message: string };

const PARLOR = { type: "system", id: "parlor", name: "Parlor" } as const;

function messageRow(sql: SqlStorage, seq: number): MessageRow | null {
  return sql.exec<MessageRow>("SELECT * FROM messages WHERE seq = ?", seq).toArray()[0] ?? null;
}

/** Overwrites a message's text where it lies with as many bytes of filler, so the old bytes do not linger in the page. */
function overwriteInPlace(sql: SqlStorage, row: MessageRow): void {
  const bytes = new TextEncoder().encode(row.text).byteLength;
  if (bytes > 0) sql.exec("UPDATE messages SET text = ? WHERE seq = ?", " ".repeat(bytes), row.seq);
}

function target(room: RoomState, row: MessageRow): string {
  return `message:${row.seq} chat:${cachedChat(room)?.chatId ?? "unknown"} author:${row.author_type}:${row.author_id}`;
}

/** Its author edits a member's message; agent replies and Parlor's notices are nobody's to edit. */
export function editMessage(
  room: RoomState,
  editor: Editor,
  seq: number,
  text: string,
): { message: Message; changed: boolean } | EditRefusal {
  const row = messageRow(room.sql, seq);
  if (!row) return { error: "not_found", message: "no message with that seq in this chat" };
  if (row.author_type !== "user" || row.author_id !== editor.userId) {
    return { error: "forbidden", message: "only its author may edit a message (agent replies cannot be edited)" };
  }
  if (row.deleted_at !== null) return { error: "conflict", message: "this message was deleted" };
  // Archived is read-only; a deletion stays allowed (it adds nothing, and a pasted secret must be removable).
  const closed = closedFor(room);
  if (closed) return { error: "conflict", message: closedMessages[closed.closed] };
  if (row.text === text) return { message: toMessage(row), changed: false };
  const editedAt = new Date().toISOString();
  overwriteInPlace(room.sql, row);
  const edited = room.sql
    .exec<MessageRow>("UPDATE messages SET text = ?, edited_at = ? WHERE seq = ? RETURNING *", text, editedAt, seq)
    .one();
  queueAudit(room, `edit:${row.id}:${crypto.randomUUID()}`, {
    actor: { type: "user", id: editor.userId },
    action: "message.edited",
    target: target(room, row),
  });
  room.broadcast({ type: "message.edited", seq, text, editedAt });
  return { message: toMessage(edited), changed: true };
}

/** Its author, or an org admin (any message, agent replies included), deletes a message; its text is gone. */
export function deleteMessage(room: RoomState, deleter: Editor, seq: number): { message: Message } | EditRefusal {
  const row = messageRow(room.sql, seq);
  if (!row) return { error: "not_found", message: "no message with that seq in this chat" };
  const own = row.author_type === "user" && row.author_id === deleter.userId;
  if (!own && deleter.role !== "admin") {
    return { error: "forbidden", message: "only its author or an org admin may delete a message" };
  }
  if (row.deleted_at !== null) return { error: "conflict", message: "this message was already deleted" };
  const deletedAt = new Date().toISOString();
  overwriteInPlace(room.sql, row);
  const deleted = room.sql
    .exec<MessageRow>(
      "UPDATE messages SET text = '', deleted_at = ?, deleted_by = ? WHERE seq = ? RETURNING *",
      deletedAt,
      deleter.userId,
      seq,
    )
    .one();
  // The reply of a run was also kept as the run's text so far (for snapshots while it waited).
  room.sql.exec("UPDATE runs SET partial_text = NULL WHERE result_seq = ?", seq);
  queueAudit(room, `delete:${row.id}`, {
    actor: { type: "user", id: deleter.userId },
    action: "message.deleted",
    target: target(room, row),
  });
  room.broadcast({ type: "message.deleted", seq, deletedBy: deleter.userId, deletedAt });
  noticeIfSummarized(room, row);
  return { message: toMessage(deleted) };
}

/** A summary made before the deletion may have carried the message's words: the chat is told, once per message. */
function noticeIfSummarized(room: RoomState, row: MessageRow): void {
  const summary = latestSummary(room.sql);
  if (!summary || summary.messageCursor < row.seq) return;
  const { message, created } = appendMessage(room.sql, PARLOR, {
    text:
      `Message #${row.seq} was deleted. An earlier summary of this chat may have carried its text; ` +
      "an org admin can rebuild the summaries.",
    clientMessageId: `deleted:${row.id}`,
  });
  if (created) room.broadcast({ type: "message", ...message });
}

/**
 * An org admin drops every summary (any may carry a deleted message's words) and the summary job is asked again from
 * the first message: what it reads now has no deleted text.
 */
export function rebuildSummaries(room: RoomState, admin: Editor): { removed: number } {
  const removed = room.sql.exec("DELETE FROM summaries RETURNING version").toArray().length;
  room.cache.summary = undefined;
  room.summaryAsked = null;
  noteSummariesRebuilt(room.sql, new Date().toISOString());
  queueAudit(room, `summaries:${crypto.randomUUID()}`, {
    actor: { type: "user", id: admin.userId },
    action: "chat.summaries_rebuilt",
    target: `chat:${cachedChat(room)?.chatId ?? "unknown"} removed=${removed}`,
  });
  return { removed };
}
