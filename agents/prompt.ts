/**
 * The prompt of a run: the agent's system prompt, then the chat's recent messages up to the one that woke it.
 * Members' and other agents' messages are user turns tagged with the speaker; the agent's own are assistant turns.
 */
import type { ModelMessage } from "ai";
import type { Message } from "../protocol/chat";
import type { AgentConfig } from "./agent-config";

export function systemPrompt(agent: AgentConfig): string {
  const identity = `You are ${agent.name} (@${agent.handle}), an AI agent taking part in a group chat. Messages from others are tagged [name].`;
  return agent.systemPrompt ? `${identity}\n\n${agent.systemPrompt}` : identity;
}

export function chatTurns(agent: AgentConfig, messages: Message[]): ModelMessage[] {
  return messages.map((message) =>
    message.author.type === "agent" && message.author.id === agent.id
      ? { role: "assistant", content: message.text }
      : { role: "user", content: `[${message.author.name ?? message.author.id}] ${message.text}` },
  );
}
