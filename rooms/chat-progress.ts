/**
 * Live progress of a chat's agent runs, as a Yjs document (y-partyserver) that clients sync: which runs are going,
 * their tool calls and status, what waits for approval. It is view state, never the record (the room's log is);
 * only the room writes it, and clients can only read.
 */
import type { Connection, WSMessage } from "partyserver";
import { YServer } from "y-partyserver";
import type { RunProgress } from "../protocol/agents";

const KEEP_RUNS = 20;
/** y-protocols' tag of an awareness message (cursors, "who is here"): the first byte of its frame. */
const AWARENESS_MESSAGE = 1;

/** A change to one run's entry: its fields, and at most one tool call to add or replace. */
export type RunPatch = Partial<Omit<RunProgress, "tools">> & { tool?: RunProgress["tools"][number] };

export class ChatProgress extends YServer<Env> {
  isReadOnly(_connection: Connection): boolean {
    return true;
  }

  /**
   * y-partyserver applies and re-broadcasts awareness messages even from read-only connections, which would let one
   * member push arbitrary data to every other member's client: clients of this document have nothing to announce, so
   * their awareness messages are dropped. Sync messages go on (read-only: they can ask, never change).
   */
  onMessage(connection: Connection, message: WSMessage): void {
    if (typeof message !== "string" && new Uint8Array(message as ArrayBuffer)[0] === AWARENESS_MESSAGE) return;
    super.onMessage(connection, message);
  }

  /** Merges a change into one run's entry; the oldest entries go once more than a few runs are shown. */
  applyRun(runId: string, patch: RunPatch): void {
    const runs = this.document.getMap<RunProgress>("runs");
    const now = new Date().toISOString();
    const current = runs.get(runId) ?? {
      agentId: patch.agentId ?? "",
      status: "running",
      tools: [],
      startedAt: now,
      updatedAt: now,
    };
    const { tool, ...rest } = patch;
    const tools = tool ? [...current.tools.filter((t) => t.toolCallId !== tool.toolCallId), tool] : current.tools;
    this.document.transact(() => {
      runs.set(runId, { ...current, ...rest, tools, updatedAt: now });
      if (runs.size > KEEP_RUNS) {
        const oldest = [...runs.entries()].sort((a, b) => a[1].startedAt.localeCompare(b[1].startedAt));
        for (const [id] of oldest.slice(0, runs.size - KEEP_RUNS)) runs.delete(id);
      }
    });
  }

  snapshot(): Record<string, RunProgress> {
    return this.document.getMap<RunProgress>("runs").toJSON() as Record<string, RunProgress>;
  }
}
