/** What a room hands an agent when a message wakes it. */
export type RunRequest = {
  runId: string;
  chatId: string;
  orgId: string;
  agentId: string;
  /** The seq of the message that woke the agent; the prompt never reads past it. */
  triggerSeq: number;
  /** The member whose message started the run. */
  initiator: string;
};

export function agentInstanceName(chatId: string, agentId: string): string {
  return `${chatId}:${agentId}`;
}
