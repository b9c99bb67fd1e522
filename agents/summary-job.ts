/**
 * The summary job: folds the chat's previous summary and the messages since into the next version. It stores
 * nothing unless it succeeds, and the room keeps only the next version, so a job that runs late or twice is harmless.
 */
import { generateText } from "ai";
import { MODEL_TIMEOUT_MS, resolveModel } from "./models";
import { summaryPrompt } from "./prompt";
import { roomOf } from "./room";

export type SummaryJob = { chatId: string; from: number; to: number; version: number };

export async function summarizeChat(env: Env, job: SummaryJob): Promise<void> {
  const room = roomOf(env, job.chatId);
  // The room refuses the summary if what is read here is deleted, edited or rebuilt before it lands.
  const readAt = new Date().toISOString();
  const latest = await room.latestSummary();
  if ((latest?.version ?? 0) !== job.version - 1) return; // another job got there first; nothing to do
  const previous = latest;
  const messages = await room.messagesBetween(job.from, job.to);
  const last = messages.at(-1);
  if (!last) return;
  const { system, prompt } = summaryPrompt(previous, messages);
  const { text, usage } = await generateText({
    model: resolveModel(env, null),
    system,
    prompt,
    abortSignal: AbortSignal.timeout(MODEL_TIMEOUT_MS),
  });
  // The cursor is the last message actually read, so nothing past a capped batch is skipped.
  if (text.trim()) {
    await room.storeSummary(
      { version: job.version, messageCursor: last.seq, text: text.trim() },
      { tokensIn: usage.inputTokens ?? 0, tokensOut: usage.outputTokens ?? 0 },
      readAt,
    );
  }
}
