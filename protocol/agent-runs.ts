/**
 * What a room and an agent hand each other, besides the run capability itself (`rooms/run-capability.ts`): the
 * request that wakes an agent, how agent actors are named, and a chat's summary. Both folders import these from
 * here, so neither imports the other.
 */

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
  /**
   * Minted by the room for this run alone: the agent presents it to `openRun` to reach the run, and nothing else.
   * It lives in the room's SQLite and the agent's, never on the wire to a client.
   */
  runSecret: string;
};

export function agentInstanceName(chatId: string, agentId: string): string {
  return `${chatId}:${agentId}`;
}

/** A version of a chat's summary: the older log folded up to `messageCursor`. */
export type Summary = { version: number; messageCursor: number; text: string };
