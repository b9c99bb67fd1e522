/**
 * The one way an agent reaches a run: `ChatRoom.openRun(runId, runSecret)` hands back this capability, scoped to
 * that run. Whatever an agent does through it is about its own run only (its text, its tools, its approvals, its
 * end); the run id, the agent and the initiator come from the room's own record, never from the agent. The secret was
 * minted with the run and given only to the run's agent.
 *
 * A stub of it lives as long as the RPC session that returned it: an agent opens its run again after it wakes, and
 * holds no stub while its run waits for a human (the run's fiber has ended by then).
 */
import { RpcTarget } from "cloudflare:workers";
import type { Artifact } from "../protocol/agents";
import type { Message } from "../protocol/chat";
import { requestApproval } from "./approval-flow";
import type { ApprovalRequest } from "./approvals";
import { storeArtifact } from "./artifacts";
import { queueRefusal } from "./audit-outbox";
import { failRun, finishRun } from "./ending-runs";
import { searchMessages } from "./message-log";
import type { RoomState } from "./room-state";
import { type RunRecord, runRecord } from "./runs";
import { runDelta, runTool, type ToolState } from "./streaming-runs";
import { contextFor, type RunContext } from "./summary-jobs";
import { noteUsage } from "./usage-batches";
import { countTokens } from "./usage-log";

export type ApprovalAsk = Omit<ApprovalRequest, "runId" | "agentId" | "initiator">;

export class RunCapability extends RpcTarget {
  constructor(
    private readonly room: RoomState,
    private readonly runId: string,
  ) {
    super();
  }

  /** The next chunk of the reply, at its character offset (a repeated chunk is dropped). */
  delta(text: string, index: number): void {
    runDelta(this.room, this.runId, text, index);
  }

  tool(tool: ToolState): void {
    runTool(this.room, this.runId, tool);
  }

  /** A model step's tokens, for billing; `step` makes a repeated report count once. */
  usage(step: number, tokensIn: number, tokensOut: number): void {
    const count = (n: number) => (Number.isSafeInteger(n) && n > 0 ? n : 0);
    countTokens(this.room.sql, this.runId, step, this.record().initiator, {
      tokensIn: count(tokensIn),
      tokensOut: count(tokensOut),
    });
    noteUsage(this.room);
  }

  /** Something the agent refused to do for this run (a request the egress guard stopped, a secret not granted). */
  refused(action: "egress.refused" | "secret.refused", reason: string): void {
    queueRefusal(this.room, {
      actor: { type: "agent", id: this.record().agentId },
      action,
      target: `run:${this.runId} ${reason.slice(0, 300)}`,
    });
  }

  /** What the run's prompt is built from: the summary and recent messages up to the message that woke it. */
  context(budget: { maxMessages: number; maxChars: number }): RunContext {
    return contextFor(this.room.sql, this.record().triggerSeq, budget);
  }

  /** Earlier messages of this chat holding `query`, from before the message that woke the run. */
  searchHistory(query: string, limit: number): Message[] {
    return searchMessages(this.room.sql, query, this.record().triggerSeq, limit);
  }

  storeArtifact(artifact: Omit<Artifact, "id" | "runId">): string {
    return storeArtifact(this.room.sql, { ...artifact, runId: this.runId });
  }

  /** Asks the members; null when the run has ended. One request per tool call: asking again returns the first. */
  requestApproval(ask: ApprovalAsk): { approvalId: string; expiresAt: string } | null {
    return requestApproval(this.room, { ...ask, runId: this.runId, agentId: this.record().agentId });
  }

  /** Stores the reply once; a repeat, or a finish after the run ended otherwise, answers with the seq stored. */
  finish(text: string, artifactIds: string[] = []): { seq: number } {
    return finishRun(this.room, this.runId, text, artifactIds);
  }

  fail(reason: string): { seq: number } {
    return failRun(this.room, this.runId, reason);
  }

  private record(): RunRecord {
    const run = runRecord(this.room.sql, this.runId);
    if (!run) throw new Error("no such run");
    return run;
  }
}
