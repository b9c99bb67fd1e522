/**
 * Which agents a member's message starts, and handing each run to its agent. Capped per message (configured) and
 * per chat, so a busy or hostile room cannot pile up model calls without bound.
 */

import { getAgentByName } from "agents";
import { errorFields, log } from "../api/log";
import { agentInstanceName, type RunRequest } from "../protocol/agent-runs";
import type { RunRefusal } from "../protocol/billing";
import type { Message } from "../protocol/chat";
import { queueRefusal } from "./audit-outbox";
import { runRefusalFor } from "./billing-gate";
import { failRun } from "./ending-runs";
import { appendMessage } from "./message-log";
import { reportProgress } from "./progress-mirror";
import { agentsToWake, type RoomAgent, replaceAgents } from "./room-agents";
import { cachedAgents, cachedChat, type RoomState } from "./room-state";
import { mintRunSecret, recordRun, runRecord, runSlotsTaken } from "./runs";
import { noteUsage } from "./usage-batches";
import { countRun } from "./usage-log";

/** Runs in progress at once in one chat, at most (runs parked on a `wait` approval past its expiry apart). */
const MAX_RUNS_PER_CHAT = 10;

/** The agents in this chat, as Postgres says; the room wakes them without asking Postgres again. */
export function setAgents(room: RoomState, agents: RoomAgent[]): void {
  replaceAgents(room.sql, agents);
  room.cache.agents = undefined;
}

export type Woken = {
  /** Handles of agents the message called that were not started: the chat already has its most runs going. */
  notStarted: string[];
  /** Agents the message called that billing or a quota stopped; the room has stored a notice saying why. */
  refused: RunRefusal[];
};

/**
 * Only members' messages wake agents (never an agent's own), and at most a configured number per message.
 * Billing and quotas are checked in the room, from what the App API last pushed: no Postgres on this path.
 */
export function wakeAgents(room: RoomState, message: Message): Woken {
  const chat = cachedChat(room);
  if (!chat || message.author.type !== "user") return { notStarted: [], refused: [] };
  const max = Number(room.env.PARLOR_MAX_AGENTS_PER_MESSAGE ?? 3);
  const woken = agentsToWake(cachedAgents(room), message.text, max);
  if (woken.length === 0) return { notStarted: [], refused: [] };
  const refusal = runRefusalFor(room, message.author.id);
  if (refusal) {
    for (const agent of woken) {
      queueRefusal(room, {
        actor: { type: "user", id: message.author.id },
        action: "run.refused",
        target: `agent:${agent.agentId} ${refusal.code}`,
      });
    }
    const handles = woken.map((agent) => `@${agent.handle}`).join(", ");
    const notice = appendMessage(
      room.sql,
      { type: "system", id: "parlor", name: "Parlor" },
      { text: `${handles} not started: ${refusal.message}`, clientMessageId: `refused:${message.id}` },
    );
    if (notice.created) room.broadcast({ type: "message", ...notice.message });
    return { notStarted: [], refused: woken.map((agent) => ({ agentId: agent.agentId, ...refusal })) };
  }
  const free = MAX_RUNS_PER_CHAT - runSlotsTaken(room.sql, new Date());
  for (const agent of woken.slice(0, Math.max(0, free))) {
    startRun(room, { ...chat, agentId: agent.agentId, triggerSeq: message.seq, initiator: message.author.id });
  }
  return { notStarted: woken.slice(Math.max(0, free)).map((agent) => agent.handle), refused: [] };
}

/**
 * A stopped or failed run, run again: a new run of the same agent for the same message, started by the member who
 * asks (so approvals follow their authority, not the first sender's). Any member of the chat may retry.
 */
export function retryRun(
  room: RoomState,
  member: { userId: string },
  runId: string,
):
  | {
      runId: string;
    }
  | { error: "not_found" | "conflict" | "rate_limited" | "billing_lapsed" | "quota_exceeded"; message: string } {
  const run = runRecord(room.sql, runId);
  const chat = cachedChat(room);
  if (!run || !chat) return { error: "not_found", message: "no such run in this chat" };
  if (run.status !== "stopped" && run.status !== "failed") {
    return { error: "conflict", message: "only a stopped or failed run can be retried" };
  }
  if (!cachedAgents(room).some((agent) => agent.agentId === run.agentId)) {
    return { error: "conflict", message: "that agent is no longer in this chat" };
  }
  if (runSlotsTaken(room.sql, new Date()) >= MAX_RUNS_PER_CHAT) {
    return { error: "rate_limited", message: "too many agent runs in progress here; try again when one ends" };
  }
  const refusal = runRefusalFor(room, member.userId);
  if (refusal) {
    queueRefusal(room, {
      actor: { type: "user", id: member.userId },
      action: "run.refused",
      target: `agent:${run.agentId} ${refusal.code}`,
    });
    return { error: refusal.code, message: `not started: ${refusal.message}` };
  }
  const retried = startRun(room, {
    ...chat,
    agentId: run.agentId,
    triggerSeq: run.triggerSeq,
    initiator: member.userId,
  });
  return { runId: retried.runId };
}

function startRun(
  room: RoomState,
  spec: Pick<RunRequest, "chatId" | "orgId" | "agentId" | "triggerSeq" | "initiator">,
): RunRequest {
  const run: RunRequest = { ...spec, runId: crypto.randomUUID(), runSecret: mintRunSecret() };
  recordRun(room.sql, run);
  countRun(room.sql, run.runId, run.initiator);
  noteUsage(room);
  room.reschedule();
  room.live.start(run.runId, run.agentId);
  room.broadcast({
    type: "run.started",
    runId: run.runId,
    agentId: run.agentId,
    triggerSeq: run.triggerSeq,
    initiator: run.initiator,
  });
  reportProgress(room, run.runId, { agentId: run.agentId, status: "running" });
  // Not awaited: the room keeps serving while the agent works.
  void invoke(room, run);
  return run;
}

async function invoke(room: RoomState, run: RunRequest): Promise<void> {
  try {
    const agent = await getAgentByName(room.env.ChatAgent, agentInstanceName(run.chatId, run.agentId));
    await agent.startRun(run);
  } catch (error) {
    log("error", "agent_run_not_started", {
      orgId: run.orgId,
      chatId: run.chatId,
      runId: run.runId,
      agentId: run.agentId,
      ...errorFields(error),
    });
    failRun(room, run.runId, "the agent could not be started");
  }
}
