/**
 * The agents sitting in this chat, as the Orchestrator last told the room, and which of them a message wakes.
 * The room keeps its own copy so the message path never reads Postgres.
 */
import { type ChatAgentRow, toRoomAgent } from "./rows";

export type RoomAgent = { agentId: string; handle: string; name: string; trigger: "mention" | "always" };

export function replaceAgents(sql: SqlStorage, agents: RoomAgent[]): void {
  sql.exec("DELETE FROM chat_agents");
  for (const agent of agents) {
    sql.exec(
      "INSERT INTO chat_agents (agent_id, handle, name, trigger) VALUES (?, ?, ?, ?)",
      agent.agentId,
      agent.handle,
      agent.name,
      agent.trigger,
    );
  }
}

export function roomAgents(sql: SqlStorage): RoomAgent[] {
  return sql.exec<ChatAgentRow>("SELECT * FROM chat_agents ORDER BY handle").toArray().map(toRoomAgent);
}

const MENTION = /(?:^|[^\w@])@([a-z0-9][a-z0-9_-]{0,31})/gi;

/**
 * Mentioned agents in the order they are mentioned, then every `always` agent, each once, at most `max` in all:
 * a message cannot wake more agents than that, however it is written.
 */
export function agentsToWake(agents: RoomAgent[], text: string, max: number): RoomAgent[] {
  const byHandle = new Map(agents.map((agent) => [agent.handle, agent]));
  const woken = new Map<string, RoomAgent>();
  for (const match of text.matchAll(MENTION)) {
    const agent = byHandle.get(match[1].toLowerCase());
    if (agent) woken.set(agent.agentId, agent);
  }
  for (const agent of agents) if (agent.trigger === "always") woken.set(agent.agentId, agent);
  return [...woken.values()].slice(0, max);
}
