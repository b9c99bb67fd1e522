/**
 * How runs end: with the agent's reply, with a visible failure notice, stopped by a member (the reply so far), or at
 * their deadline when the agent stopped answering. Each run ends once, with the one message that records how; a
 * repeat answers with that message's seq.
 */

import { getAgentByName } from "agents";
import { errorFields, log } from "../api/log";
import { agentInstanceName } from "../protocol/agent-runs";
import { MAX_REPLY_CHARS } from "../protocol/agents";
import type { Author } from "../protocol/chat";
import { cutText, storableText } from "../protocol/primitives";
import { auditTarget } from "./approval-flow";
import { closeApprovalsOf } from "./approvals";
import { queueAudit } from "./audit-outbox";
import { appendMessage } from "./message-log";
import { reportProgress } from "./progress-mirror";
import type { RoomAgent } from "./room-agents";
import { cachedAgents, cachedChat, type RoomState } from "./room-state";
import { endRun, nextRunDeadline, overdueRuns, type RunRecord, runRecord } from "./runs";
import type { ScheduledJob } from "./scheduler";
import { summarizeIfDue } from "./summary-jobs";
import { noteUsage } from "./usage-batches";

/** Stores the reply once; a retried call answers with the seq already stored. */
export function finishRun(room: RoomState, runId: string, text: string, artifactIds: string[] = []): { seq: number } {
  return endWith(room, runId, "finished", (run, agent) => ({
    author: { type: "agent", id: run.agentId, name: agent?.name ?? run.agentId },
    text: cutText(storableText(text), MAX_REPLY_CHARS),
    clientMessageId: `run:${runId}`,
    artifactIds,
  }));
}

/** Ends a run with a stored, visible failure notice instead of a reply. */
export function failRun(room: RoomState, runId: string, failure: string): { seq: number } {
  const reason = cutText(storableText(failure), 1_000);
  return endWith(
    room,
    runId,
    "failed",
    (run, agent) => ({
      author: { type: "system", id: "parlor", name: "Parlor" },
      text: `@${agent?.handle ?? run.agentId} could not finish: ${reason}`,
      clientMessageId: `run-failed:${runId}`,
    }),
    reason,
  );
}

/** Who may stop a run: the member whose message started it, or an org admin. */
export type Stopper = { userId: string; name: string; role?: "admin" | "member" };

/**
 * Ends a run on a member's word: the reply as far as it got is stored once, marked stopped (a run that had written
 * nothing stores a short notice instead), everyone sees `run.finished` with `stopped`, and the agent is told to stop.
 */
export function stopRun(
  room: RoomState,
  stopper: Stopper,
  runId: string,
): { seq: number } | { error: "not_found" | "forbidden" | "conflict" } {
  const run = runRecord(room.sql, runId);
  if (!run) return { error: "not_found" };
  if (run.initiator !== stopper.userId && stopper.role !== "admin") return { error: "forbidden" };
  if (run.status !== "running") return { error: "conflict" };
  const partial = room.live.has(runId) ? room.live.text(runId) : run.partialText;
  const result = endWith(room, runId, "stopped", (ended, agent) => {
    const reply = cutText(storableText(partial), MAX_REPLY_CHARS);
    if (reply.trim()) {
      return {
        author: { type: "agent", id: ended.agentId, name: agent?.name ?? ended.agentId },
        text: reply,
        clientMessageId: `run-stopped:${runId}`,
        stopped: true,
      };
    }
    return {
      author: { type: "system", id: "parlor", name: "Parlor" },
      text: `${stopper.name} stopped @${agent?.handle ?? ended.agentId} before it wrote anything`,
      clientMessageId: `run-stopped:${runId}`,
      stopped: true,
    };
  });
  if (run.initiator !== stopper.userId) {
    // Only an admin may stop someone else's run (checked above): an admin action.
    queueAudit(room, `stop:${runId}`, {
      actor: { type: "user", id: stopper.userId },
      action: "run.stopped_by_admin",
      target: `run:${runId} agent:${run.agentId} initiator:${run.initiator}`,
    });
  }
  void tellAgentToStop(room, run);
  return result;
}

async function tellAgentToStop(room: RoomState, run: RunRecord): Promise<void> {
  const chat = cachedChat(room);
  if (!chat) return;
  try {
    const agent = await getAgentByName(room.env.ChatAgent, agentInstanceName(chat.chatId, run.agentId));
    await agent.cancelRun(run.runId);
  } catch (error) {
    // The run is over in the room whatever the agent does: its later calls are answered with what is stored.
    log("warn", "agent_not_told_to_stop", {
      orgId: chat.orgId,
      chatId: chat.chatId,
      runId: run.runId,
      ...errorFields(error),
    });
  }
}

/** The room's alarm fails runs whose agent vanished, so nobody's screen says "writing…" forever. */
export function runDeadlines(room: RoomState): ScheduledJob {
  return {
    name: "run deadlines",
    nextWake: () => nextRunDeadline(room.sql)?.getTime() ?? null,
    run: (now) => {
      for (const runId of overdueRuns(room.sql, new Date(now))) failRun(room, runId, "the agent stopped answering");
    },
  };
}

function endWith(
  room: RoomState,
  runId: string,
  status: "finished" | "failed" | "stopped",
  record: (
    run: RunRecord,
    agent: RoomAgent | undefined,
  ) => { author: Author; text: string; clientMessageId: string; artifactIds?: string[]; stopped?: boolean },
  reason = "",
): { seq: number } {
  const run = runRecord(room.sql, runId);
  if (!run) throw new Error(`unknown run ${runId}`);
  if (run.status !== "running") return { seq: run.resultSeq ?? 0 };
  const { author, ...input } = record(
    run,
    cachedAgents(room).find((a) => a.agentId === run.agentId),
  );
  const { message } = appendMessage(room.sql, author, input);
  endRun(room.sql, runId, status, message.seq);
  noteUsage(room);
  const closed = closeApprovalsOf(room.sql, runId);
  for (const approval of closed) {
    queueAudit(room, `approval:${approval.approvalId}`, {
      actor: { type: "system", id: "parlor" },
      action: "approval.expired",
      target: `${auditTarget(approval)} run_${status}`,
    });
  }
  room.live.end(runId);
  room.broadcast({ type: "message", ...message });
  for (const approval of closed) {
    room.broadcast({
      type: "approval.decided",
      approvalId: approval.approvalId,
      runId,
      agentId: approval.agentId,
      decision: "expired",
      by: "parlor",
    });
  }
  const { agentId } = run;
  room.broadcast(
    status === "failed"
      ? { type: "run.failed", runId, agentId, reason, seq: message.seq }
      : status === "stopped"
        ? { type: "run.finished", runId, agentId, seq: message.seq, stopped: true }
        : { type: "run.finished", runId, agentId, seq: message.seq },
  );
  reportProgress(room, runId, { agentId, status: status === "failed" ? "failed" : "done" });
  if (status !== "failed") summarizeIfDue(room, message.seq);
  return { seq: message.seq };
}
