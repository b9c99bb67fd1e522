/**
 * The room's full-text index of its messages: SQLite FTS5 over the `messages` table (external content, so the text is
 * stored once), kept in step by triggers on every insert, edit, delete and restore. A room from before the index gets
 * it built from its log on the next wake. Queries are a member's words, never FTS syntax.
 */
import type { Message } from "../protocol/chat";
import { SNIPPET_MARK } from "../protocol/message-edits";
import { type MessageRow, toMessage } from "./rows";

const INDEX = "messages_fts";
const MAX_QUERY_WORDS = 16;
const SNIPPET_WORDS = 12;

/**
 * Creates the index and its triggers once. `secure-delete` makes FTS5 remove a row's words from the index when the row
 * changes, instead of leaving them behind a delete marker until segments merge: a deleted message's words go at once.
 */
export function migrateSearchIndex(sql: SqlStorage): void {
  const exists = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", INDEX).toArray().length > 0;
  if (exists) return;
  sql.exec(`
    CREATE VIRTUAL TABLE ${INDEX} USING fts5(
      text, content = 'messages', content_rowid = 'seq', tokenize = 'porter unicode61 remove_diacritics 2'
    );
    INSERT INTO ${INDEX} (${INDEX}, rank) VALUES ('secure-delete', 1);
    CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN
      INSERT INTO ${INDEX} (rowid, text) VALUES (new.seq, new.text);
    END;
    CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF text ON messages BEGIN
      INSERT INTO ${INDEX} (${INDEX}, rowid, text) VALUES ('delete', old.seq, old.text);
      INSERT INTO ${INDEX} (rowid, text) VALUES (new.seq, new.text);
    END;
    CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN
      INSERT INTO ${INDEX} (${INDEX}, rowid, text) VALUES ('delete', old.seq, old.text);
    END;
    INSERT INTO ${INDEX} (${INDEX}) VALUES ('rebuild');
  `);
}

/**
 * A member's words as an FTS5 query: each word (letters, digits, marks) quoted as a phrase of its own, all required.
 * Quotes, `*`, `NEAR(`, `AND`, `:` and the like are never operators here. Null when no word is left.
 */
export function ftsQuery(q: string): string | null {
  const words = q.match(/[\p{L}\p{N}\p{M}\p{Co}]+/gu)?.slice(0, MAX_QUERY_WORDS) ?? [];
  return words.length > 0 ? words.map((word) => `"${word}"`).join(" ") : null;
}

/** A match in this room: the message as it is now, a snippet around the match, and its bm25 rank (lower is better). */
export type SearchHit = { message: Message; snippet: string; rank: number };

/** The best `limit` matches, most relevant first, then newest first. Deleted messages have no words to match. */
export function searchIndex(sql: SqlStorage, q: string, limit: number): SearchHit[] {
  const match = ftsQuery(q);
  if (!match) return [];
  return sql
    .exec<MessageRow & { rank: number; snippet: string }>(
      `SELECT m.*, bm25(${INDEX}) AS rank, snippet(${INDEX}, 0, ?, ?, '…', ${SNIPPET_WORDS}) AS snippet
       FROM ${INDEX} JOIN messages m ON m.seq = ${INDEX}.rowid
       WHERE ${INDEX} MATCH ? AND m.deleted_at IS NULL
       ORDER BY rank, m.seq DESC
       LIMIT ?`,
      SNIPPET_MARK.open,
      SNIPPET_MARK.close,
      match,
      limit,
    )
    .toArray()
    .map((row) => ({ message: toMessage(row), snippet: row.snippet, rank: row.rank }));
}
