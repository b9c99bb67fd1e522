/**
 * How runs end: with the agent's reply, with a visible failure notice, or at their deadline when the agent stopped
 * answering. Each run ends once, with the one message that records how; a repeat answers with that message's seq.
 */
import { MAX_REPLY_CHARS } from "../protocol/agents";
import type { Author } from "../protocol/chat";
import { cutText, storableText } from "../protocol/primitives";
import { closeApprovalsOf } from "./approvals";
import { appendMessage } from "./message-log";
import { reportProgress } from "./progress-mirror";
import type { RoomAgent } from "./room-agents";
import { cachedAgents, type RoomState } from "./room-state";
import { endRun, nextRunDeadline, overdueRuns, type RunRecord, runRecord } from "./runs";
import type { ScheduledJob } from "./scheduler";
import { summarizeIfDue } from "./summary-jobs";

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
  status: "finished" | "failed",
  record: (
    run: RunRecord,
    agent: RoomAgent | undefined,
  ) => { author: Author; text: string; clientMessageId: string; artifactIds?: string[] },
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
  closeApprovalsOf(room.sql, runId);
  room.live.end(runId);
  room.broadcast({ type: "message", ...message });
  const { agentId } = run;
  room.broadcast(
    status === "finished"
      ? { type: "run.finished", runId, agentId, seq: message.seq }
      : { type: "run.failed", runId, agentId, reason, seq: message.seq },
  );
  reportProgress(room, runId, { agentId, status: status === "finished" ? "done" : "failed" });
  if (status === "finished") summarizeIfDue(room, message.seq);
  return { seq: message.seq };
}
