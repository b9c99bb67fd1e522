/**
 * Which agents a member's message starts, and handing each run to its agent. Capped per message (configured) and
 * per chat, so a busy or hostile room cannot pile up model calls without bound.
 */
import { getAgentByName } from "agents";
import { agentInstanceName, type RunRequest } from "../protocol/agent-runs";
import type { Message } from "../protocol/chat";
import { failRun } from "./ending-runs";
import { reportProgress } from "./progress-mirror";
import { agentsToWake, type RoomAgent, replaceAgents } from "./room-agents";
import { cachedAgents, cachedChat, type RoomState } from "./room-state";
import { mintRunSecret, recordRun, runningCount } from "./runs";

/** Runs in progress at once in one chat, at most. */
const MAX_RUNS_PER_CHAT = 10;

/** The agents in this chat, as Postgres says; the room wakes them without asking Postgres again. */
export function setAgents(room: RoomState, agents: RoomAgent[]): void {
  replaceAgents(room.sql, agents);
  room.cache.agents = undefined;
}

/**
 * Only members' messages wake agents (never an agent's own), and at most a configured number per message.
 * Returns the handles of agents the message called but that were not started because the chat already has its
 * most runs in progress.
 */
export function wakeAgents(room: RoomState, message: Message): string[] {
  const chat = cachedChat(room);
  if (!chat || message.author.type !== "user") return [];
  const max = Number(room.env.PARLOR_MAX_AGENTS_PER_MESSAGE ?? 3);
  const woken = agentsToWake(cachedAgents(room), message.text, max);
  if (woken.length === 0) return [];
  const free = MAX_RUNS_PER_CHAT - runningCount(room.sql);
  for (const agent of woken.slice(0, Math.max(0, free))) {
    const run: RunRequest = {
      runId: crypto.randomUUID(),
      chatId: chat.chatId,
      orgId: chat.orgId,
      agentId: agent.agentId,
      triggerSeq: message.seq,
      initiator: message.author.id,
      runSecret: mintRunSecret(),
    };
    recordRun(room.sql, run);
    room.reschedule();
    room.live.start(run.runId, run.agentId);
    room.broadcast({ type: "run.started", runId: run.runId, agentId: run.agentId, triggerSeq: run.triggerSeq });
    reportProgress(room, run.runId, { agentId: run.agentId, status: "running" });
    // Not awaited: the room keeps serving while the agent works.
    void invoke(room, run);
  }
  return woken.slice(Math.max(0, free)).map((agent) => agent.handle);
}

async function invoke(room: RoomState, run: RunRequest): Promise<void> {
  try {
    const agent = await getAgentByName(room.env.ChatAgent, agentInstanceName(run.chatId, run.agentId));
    await agent.startRun(run);
  } catch (error) {
    console.error("chat room: could not start an agent run", error);
    failRun(room, run.runId, "the agent could not be started");
  }
}
