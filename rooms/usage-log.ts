/**
 * What the room counts for billing between batches: each run it starts, and each model step's tokens as the run's
 * agent reports them. Keys make a repeated report count once. Messages are not logged: a batch counts them by seq.
 */

import { z } from "zod";
import type { MeterCounts, Unreported } from "../billing/allowance";
import { readMeta } from "./room-meta";

/** How far usage has been sent: usage-log rows and messages up to these. */
export const usageCursorSchema = z.object({ usageId: z.number().int(), seq: z.number().int() });
export type UsageCursor = z.infer<typeof usageCursorSchema>;

export function countRun(sql: SqlStorage, runId: string, initiator: string): void {
  log(sql, `run:${runId}`, initiator, { agentRuns: 1, tokensIn: 0, tokensOut: 0 });
}

export function countTokens(
  sql: SqlStorage,
  runId: string,
  step: number,
  initiator: string,
  tokens: { tokensIn: number; tokensOut: number },
): void {
  log(sql, `tokens:${runId}:${step}`, initiator, { agentRuns: 0, ...tokens });
}

/** A summary's model tokens: the org's usage, started by nobody in particular (`parlor`). */
export function countSummaryTokens(
  sql: SqlStorage,
  version: number,
  tokens: { tokensIn: number; tokensOut: number },
): void {
  const count = (n: number) => (Number.isSafeInteger(n) && n > 0 ? n : 0);
  log(sql, `summary:${version}`, "parlor", {
    agentRuns: 0,
    tokensIn: count(tokens.tokensIn),
    tokensOut: count(tokens.tokensOut),
  });
}

function log(
  sql: SqlStorage,
  key: string,
  userId: string,
  counts: { agentRuns: number; tokensIn: number; tokensOut: number },
): void {
  sql.exec(
    `INSERT INTO usage_log (key, user_id, agent_runs, tokens_in, tokens_out, at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (key) DO NOTHING`,
    key,
    userId,
    counts.agentRuns,
    counts.tokensIn,
    counts.tokensOut,
    new Date().toISOString(),
  );
}

/** Usage counted here and not yet part of a completed batch. */
export function unreportedUsage(sql: SqlStorage): Unreported {
  const cursor: UsageCursor = readMeta(sql, "usage_cursor", usageCursorSchema) ?? { usageId: 0, seq: 0 };
  const totals = (where: string, ...params: (string | number)[]): MeterCounts => {
    const row = sql
      .exec<{ runs: number; tokens: number }>(
        `SELECT coalesce(sum(agent_runs), 0) AS runs, coalesce(sum(tokens_in + tokens_out), 0) AS tokens
         FROM usage_log WHERE id > ? ${where}`,
        cursor.usageId,
        ...params,
      )
      .one();
    return { agentRuns: row.runs, tokens: row.tokens };
  };
  const org = totals("");
  return {
    org,
    member: (userId) => (org.agentRuns === 0 && org.tokens === 0 ? org : totals("AND user_id = ?", userId)),
  };
}
