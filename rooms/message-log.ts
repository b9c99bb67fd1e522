/**
 * The chat's ordered message log, as functions over the room's SQLite.
 * The room is the only writer, and each call below runs synchronously, so no two appends interleave:
 * `seq` is max+1 inside one statement and a failed insert consumes nothing, which keeps the order gap-free.
 */
import type { Author, Message } from "../protocol/chat";
import { type MessageRow, toMessage } from "./rows";

export type AppendResult = { message: Message; created: boolean };

/** Stores a message with the next seq, or returns the one this author already sent with that clientMessageId. */
export function appendMessage(
  sql: SqlStorage,
  author: Author,
  input: { text: string; clientMessageId: string | null; artifactIds?: string[]; stopped?: boolean },
): AppendResult {
  // One statement on the hot path: a retried clientMessageId hits the unique index and inserts nothing.
  const inserted = sql
    .exec<MessageRow>(
      `INSERT INTO messages (seq, id, author_type, author_id, author_name, client_message_id, text, created_at, artifact_ids, stopped)
       VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM messages), ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (author_type, author_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
       RETURNING *`,
      crypto.randomUUID(),
      author.type,
      author.id,
      author.name ?? null,
      input.clientMessageId,
      input.text,
      new Date().toISOString(),
      input.artifactIds?.length ? JSON.stringify(input.artifactIds) : null,
      input.stopped ? 1 : null,
    )
    .toArray()[0];
  if (inserted) return { message: toMessage(inserted), created: true };
  const existing = sql
    .exec<MessageRow>(
      "SELECT * FROM messages WHERE author_type = ? AND author_id = ? AND client_message_id = ?",
      author.type,
      author.id,
      input.clientMessageId,
    )
    .one();
  return { message: toMessage(existing), created: false };
}

/** Messages with seq greater than `after`, oldest first, at most `limit` of them. */
export function messagesAfter(sql: SqlStorage, after: number, limit: number): Message[] {
  return sql
    .exec<MessageRow>("SELECT * FROM messages WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
    .toArray()
    .map(toMessage);
}

/** A page of history: after a seq (forward) or before one (backward); either way ascending. */
export type HistoryPage = { after: number; limit: number } | { before: number; limit: number };

export function readPage(sql: SqlStorage, page: HistoryPage): Message[] {
  return "before" in page ? messagesUpTo(sql, page.before - 1, page.limit) : messagesAfter(sql, page.after, page.limit);
}

/** The last `limit` messages up to and including `seq`, oldest first. */
export function messagesUpTo(sql: SqlStorage, seq: number, limit: number): Message[] {
  return sql
    .exec<MessageRow>(
      "SELECT * FROM (SELECT * FROM messages WHERE seq <= ? ORDER BY seq DESC LIMIT ?) ORDER BY seq",
      seq,
      limit,
    )
    .toArray()
    .map(toMessage);
}

/** Earlier messages of this chat containing `query` (case-insensitive), newest first. */
export function searchMessages(sql: SqlStorage, query: string, beforeSeq: number, limit: number): Message[] {
  const pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql
    .exec<MessageRow>(
      "SELECT * FROM messages WHERE seq < ? AND text LIKE ? ESCAPE '\\' ORDER BY seq DESC LIMIT ?",
      beforeSeq,
      pattern,
      limit,
    )
    .toArray()
    .map(toMessage);
}

export function lastSeq(sql: SqlStorage): number {
  return sql.exec<{ seq: number }>("SELECT coalesce(max(seq), 0) AS seq FROM messages").one().seq;
}
