/**
 * The room's side of summaries: asking the summary job for the next one once enough has accumulated, handing it
 * the messages, keeping what it returns, and building a run's context from the latest summary and what follows it.
 */

import { getAgentByName } from "agents";
import { errorFields, log } from "../api/log";
import type { Message } from "../protocol/chat";
import { messagesAfter, messagesUpTo } from "./message-log";
import { cachedChat, cachedSummary, type RoomState } from "./room-state";
import { latestSummary, type Summary, storeSummary, summaryDue } from "./summaries";
import { changedSinceRead } from "./summary-freshness";

export type RunContext = { summary: Summary | null; messages: Message[] };

/**
 * What a run's prompt is built from: the latest summary, then the most recent messages after its cursor up to
 * the one that woke the agent, newest first until the character budget or the count runs out.
 */
export function contextFor(
  sql: SqlStorage,
  triggerSeq: number,
  budget: { maxMessages: number; maxChars: number },
): RunContext {
  const summary = latestSummary(sql);
  const recent = messagesUpTo(sql, triggerSeq, budget.maxMessages).filter((m) => m.seq > (summary?.messageCursor ?? 0));
  let chars = summary?.text.length ?? 0;
  let start = recent.length;
  while (start > 0 && (start === recent.length || chars + recent[start - 1].text.length <= budget.maxChars)) {
    chars += recent[start - 1].text.length;
    start--;
  }
  return { summary, messages: recent.slice(start) };
}

/** Messages in a seq range, for the summary job. */
export function messagesBetween(sql: SqlStorage, from: number, to: number): Message[] {
  return messagesAfter(sql, from - 1, Math.min(500, to - from + 1));
}

/** Keeps the summary the job made if it is the next version and nothing it read changed since `readAt`. */
export function acceptSummary(room: RoomState, summary: Summary, readAt?: string): boolean {
  room.cache.summary = undefined;
  if (readAt !== undefined && changedSinceRead(room.sql, summary.messageCursor, readAt)) {
    room.summaryAsked = null;
    return false;
  }
  return storeSummary(room.sql, summary);
}

/** Asks the summary job for the next summary once enough has accumulated; the message path never waits for it. */
export function summarizeIfDue(room: RoomState, lastSeq: number): void {
  const chat = cachedChat(room);
  const due = summaryDue(cachedSummary(room), lastSeq, {
    every: Number(room.env.PARLOR_SUMMARY_EVERY ?? 50),
    keepRecent: Number(room.env.PARLOR_SUMMARY_KEEP ?? 20),
  });
  if (!chat || !due) return;
  const version = (cachedSummary(room)?.version ?? 0) + 1;
  // One request per version while the job works; asked again only if it has not delivered within a minute.
  const asked = room.summaryAsked;
  if (asked && asked.version === version && Date.now() - asked.at < 60_000) return;
  room.summaryAsked = { version, at: Date.now() };
  void (async () => {
    try {
      const summarizer = await getAgentByName(room.env.SummaryAgent, chat.chatId);
      await summarizer.summarize({ chatId: chat.chatId, from: due.from, to: due.to, version });
    } catch (error) {
      // Nothing was stored; the next message asks again.
      log("error", "summary_not_started", { orgId: chat.orgId, chatId: chat.chatId, version, ...errorFields(error) });
    }
  })();
}
