/**
 * What runs in progress show while they work: text deltas and tool states, broadcast as they come and kept in
 * memory (never written per token), so a socket that joins mid-run gets a snapshot and then the live deltas.
 */
import { approvalRequested, type RunEvent } from "../protocol/agents";
import { listApprovals } from "./approvals";
import { reportProgress } from "./progress-mirror";
import type { RoomEvent, RoomState } from "./room-state";
import { runningRuns, runRecord } from "./runs";

export function runDelta(room: RoomState, runId: string, text: string, index: number): void {
  const run = runRecord(room.sql, runId);
  if (run?.status !== "running") return;
  if (!room.live.has(runId)) restoreLiveRuns(room);
  const fresh = room.live.append(runId, run.agentId, text, index);
  if (fresh) room.broadcast({ type: "run.delta", runId, agentId: run.agentId, ...fresh });
}

export function runTool(room: RoomState, runId: string, tool: ToolState): void {
  const run = runRecord(room.sql, runId);
  if (run?.status !== "running") return;
  room.live.setTool(runId, run.agentId, tool);
  room.broadcast({ type: "run.tool", runId, agentId: run.agentId, ...tool });
  reportProgress(room, runId, {
    agentId: run.agentId,
    status: tool.status === "waiting_approval" ? "waiting_approval" : "running",
    tool: { toolCallId: tool.toolCallId, name: tool.name, status: tool.status },
  });
}

/** For a socket that joins: runs in progress (the text so far) and requests awaiting a decision. */
export function welcomeEvents(room: RoomState): RoomEvent[] {
  restoreLiveRuns(room);
  const events: RoomEvent[] = room.live.snapshots().map((snapshot) => {
    const initiator = runRecord(room.sql, snapshot.runId)?.initiator;
    return initiator ? { ...snapshot, initiator } : snapshot;
  });
  for (const approval of listApprovals(room.sql, "pending")) events.push(approvalRequested(approval));
  return events;
}

/** Brings back runs a room that slept forgot, from the text saved at their last pause. */
function restoreLiveRuns(room: RoomState): void {
  for (const run of runningRuns(room.sql)) room.live.restore(run.runId, run.agentId, run.partialText);
}

export type ToolState = Omit<Extract<RunEvent, { type: "run.tool" }>, "type" | "runId" | "agentId">;
type LiveRun = { agentId: string; text: string; tools: Map<string, ToolState> };

/** Text streamed so far by runs in progress. Lost if the room is evicted mid-run; the stored reply is the record. */
export class LiveRuns {
  private readonly runs = new Map<string, LiveRun>();

  start(runId: string, agentId: string): void {
    this.runs.set(runId, { agentId, text: "", tools: new Map() });
  }

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  text(runId: string): string {
    return this.runs.get(runId)?.text ?? "";
  }

  /** Brings back a run this room forgot (it slept), from the text saved at its last pause. */
  restore(runId: string, agentId: string, text: string): void {
    if (!this.runs.has(runId)) this.runs.set(runId, { agentId, text, tools: new Map() });
  }

  setTool(runId: string, agentId: string, tool: ToolState): void {
    let run = this.runs.get(runId);
    if (!run) {
      run = { agentId, text: "", tools: new Map() };
      this.runs.set(runId, run);
    }
    run.tools.set(tool.toolCallId, tool);
  }

  /**
   * Takes a chunk that starts at `index` in the reply and returns the part not seen before (a retried chunk
   * overlaps what the room has), or null when there is nothing new. A chunk that starts past what the room has (it
   * slept mid-stream and lost the middle) is passed on at its true offset but not kept: the room's text stays a true
   * beginning of the reply, so a late joiner's snapshot is short, never wrong.
   */
  append(runId: string, agentId: string, text: string, index: number): { text: string; index: number } | null {
    let run = this.runs.get(runId);
    if (!run) {
      run = { agentId, text: "", tools: new Map() };
      this.runs.set(runId, run);
    }
    const known = run.text.length;
    if (index > known) return { text, index };
    const fresh = text.slice(known - index);
    if (!fresh) return null;
    run.text += fresh;
    return { text: fresh, index: known };
  }

  end(runId: string): void {
    this.runs.delete(runId);
  }

  snapshots(): RunEvent[] {
    return [...this.runs].map(([runId, run]) => ({
      type: "run.snapshot",
      runId,
      agentId: run.agentId,
      text: run.text,
      tools: [...run.tools.values()],
    }));
  }
}
