/**
 * Live progress of a chat's agent runs, as a Yjs document (y-partyserver) that clients sync: which runs are going,
 * their tool calls and status, what waits for approval. It is view state, never the record (the room's log is);
 * only the room writes it, and clients can only read.
 */
import type { Connection, ConnectionContext, WSMessage } from "partyserver";
import { YServer } from "y-partyserver";
import type { RunProgress } from "../protocol/agents";

const KEEP_RUNS = 20;
/**
 * Who opened a progress socket, set by the Orchestrator on the request it builds (a client's own headers never reach
 * here): the document closes a member's sockets when they are removed from the chat.
 */
export const PROGRESS_MEMBER_HEADER = "x-parlor-progress-member";
const CLOSED_REMOVED = 4003;

/** y-protocols' tag of an awareness message (cursors, "who is here"): the first byte of its frame. */
const AWARENESS_MESSAGE = 1;

/** A change to one run's entry: its fields, and at most one tool call to add or replace. */
export type RunPatch = Partial<Omit<RunProgress, "tools">> & { tool?: RunProgress["tools"][number] };

export class ChatProgress extends YServer<Env> {
  isReadOnly(_connection: Connection): boolean {
    return true;
  }

  getConnectionTags(_connection: Connection, context: ConnectionContext): string[] {
    const member = context.request.headers.get(PROGRESS_MEMBER_HEADER);
    return member ? [memberTag(member)] : [];
  }

  onConnect(connection: Connection, context: ConnectionContext): void | Promise<void> {
    // Only the Orchestrator opens sockets here, after the membership check; anything else is refused.
    if (!context.request.headers.get(PROGRESS_MEMBER_HEADER)) {
      connection.close(1008, "not forwarded by the orchestrator");
      return;
    }
    return super.onConnect(connection, context);
  }

  /** A member left the chat: their sockets to this document close, as their sockets to the room do. */
  closeMember(userId: string): number {
    let closed = 0;
    for (const connection of this.getConnections(memberTag(userId))) {
      connection.close(CLOSED_REMOVED, "removed from chat");
      closed++;
    }
    return closed;
  }

  /** The chat was deleted: every socket to its document closes, with the chat's close code. */
  closeAll(code: number, reason: string): number {
    let closed = 0;
    for (const connection of this.getConnections()) {
      connection.close(code, reason);
      closed++;
    }
    return closed;
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

function memberTag(userId: string): string {
  return `member:${userId}`;
}
