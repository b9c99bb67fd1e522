/**
 * Summaries of the older part of the chat, so a run's prompt stays small however long the chat grows. Each has a
 * `version` (1, 2, …) and the `message_cursor` it covers up to; a summary job that finishes late or twice can only
 * add the next version, never overwrite one.
 */

import type { Summary } from "../protocol/agent-runs";
import { type SummaryRow, toSummary } from "./rows";

export type { Summary };

export function latestSummary(sql: SqlStorage): Summary | null {
  const row = sql
    .exec<Pick<SummaryRow, "version" | "message_cursor" | "text">>(
      "SELECT version, message_cursor, text FROM summaries ORDER BY version DESC LIMIT 1",
    )
    .toArray()[0];
  return row ? toSummary(row) : null;
}

/** Stores `summary` if it is the next version and moves the cursor forward; false otherwise (changes nothing). */
export function storeSummary(sql: SqlStorage, summary: Summary): boolean {
  const latest = latestSummary(sql);
  if (summary.version !== (latest?.version ?? 0) + 1) return false;
  if (summary.messageCursor <= (latest?.messageCursor ?? 0)) return false;
  sql.exec(
    "INSERT INTO summaries (version, message_cursor, text, created_at) VALUES (?, ?, ?, ?)",
    summary.version,
    summary.messageCursor,
    summary.text,
    new Date().toISOString(),
  );
  return true;
}

export type SummaryPolicy = { every: number; keepRecent: number };

/** The range the next summary should cover, once enough has accumulated past the last cursor; else null. */
export function summaryDue(
  latest: Summary | null,
  lastSeq: number,
  policy: SummaryPolicy,
): { from: number; to: number } | null {
  const cursor = latest?.messageCursor ?? 0;
  const to = lastSeq - policy.keepRecent;
  return to - cursor >= policy.every ? { from: cursor + 1, to } : null;
}
