/**
 * The prompt of a run: the agent's system prompt, then the chat's recent messages up to the one that woke it.
 * Members' and other agents' messages are user turns tagged with the speaker; the agent's own are assistant turns.
 */
import type { ModelMessage } from "ai";
import type { Message } from "../protocol/chat";
import type { AgentConfig } from "./agent-config";
import type { Summary } from "./room";

/** How much of the chat a run reads verbatim, after the latest summary. */
export const CONTEXT_BUDGET = { maxMessages: 40, maxChars: 24_000 };

export function systemPrompt(agent: AgentConfig, summary: Summary | null = null): string {
  const identity = `You are ${agent.name} (@${agent.handle}), an AI agent taking part in a group chat. Messages from others are tagged [name].`;
  const parts = [identity];
  if (agent.systemPrompt) parts.push(agent.systemPrompt);
  if (summary)
    parts.push(`Summary of the earlier conversation (up to message ${summary.messageCursor}):\n${summary.text}`);
  return parts.join("\n\n");
}

export const SUMMARY_MARKER = "[parlor:summarize]";

/** The summary job's prompt: the previous summary and the messages since, to be folded into one new summary. */
export function summaryPrompt(previous: Summary | null, messages: Message[]): { system: string; prompt: string } {
  // A deleted message left no text, and nothing says what it held.
  const transcript = messages
    .filter((m) => !m.deletedAt)
    .map((m) => `${m.author.name ?? m.author.id}: ${m.text}`)
    .join("\n");
  return {
    system: `${SUMMARY_MARKER} Summarize this group chat for someone joining it: decisions, open questions, who does what. Be brief.`,
    prompt: previous ? `Summary so far:\n${previous.text}\n\nSince then:\n${transcript}` : transcript,
  };
}

export function chatTurns(agent: AgentConfig, messages: Message[]): ModelMessage[] {
  return messages
    .filter((message) => !message.deletedAt)
    .map((message) =>
      message.author.type === "agent" && message.author.id === agent.id
        ? { role: "assistant", content: message.text }
        : { role: "user", content: `[${message.author.name ?? message.author.id}] ${message.text}` },
    );
}
