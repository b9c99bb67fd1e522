/**
 * Every room table's row as SQLite returns it (read off `schema.ts`, with the values the room writes narrowed), and
 * the one mapper from each to what the room's modules and RPC callers work with.
 */
import type { Approval, Artifact } from "../protocol/agents";
import type { Author, Message } from "../protocol/chat";
import type { ChatRef } from "./room-address";
import type { RoomAgent } from "./room-agents";
import type { RunRecord } from "./runs";
import type { Row } from "./schema";
import type { Summary } from "./summaries";

export type MetaRow = Row<"room_meta">;

/** `room_meta` key `chat`. */
export function toChatRef(row: Pick<MetaRow, "value">): ChatRef {
  return JSON.parse(row.value) as ChatRef;
}

export type MessageRow = Row<"messages"> & { author_type: Author["type"] };

const RUN_ENDING = /^run(?:-failed|-stopped)?:(.+)$/;

export function toMessage(row: MessageRow): Message {
  const author: Author = { type: row.author_type, id: row.author_id };
  if (row.author_name !== null) author.name = row.author_name;
  const message: Message = {
    seq: row.seq,
    id: row.id,
    clientMessageId: row.client_message_id,
    author,
    text: row.text,
    createdAt: row.created_at,
  };
  if (row.artifact_ids) message.artifactIds = JSON.parse(row.artifact_ids) as string[];
  if (row.stopped === 1) message.stopped = true;
  if (row.edited_at !== null) message.editedAt = row.edited_at;
  if (row.deleted_at !== null) message.deletedAt = row.deleted_at;
  if (row.deleted_by !== null) message.deletedBy = row.deleted_by;
  if (row.author_type !== "user" && row.client_message_id) {
    // The messages that end runs carry the run in their client id (`ending-runs.ts`).
    const ended = RUN_ENDING.exec(row.client_message_id);
    if (ended) message.runId = ended[1];
  }
  return message;
}

export type ChatAgentRow = Row<"chat_agents"> & { trigger: RoomAgent["trigger"] };

export function toRoomAgent(row: ChatAgentRow): RoomAgent {
  return { agentId: row.agent_id, handle: row.handle, name: row.name, trigger: row.trigger };
}

export type RunRow = Row<"runs"> & { status: RunRecord["status"] };

export function toRunRecord(row: RunRow): RunRecord {
  return {
    runId: row.run_id,
    agentId: row.agent_id,
    triggerSeq: row.trigger_seq,
    initiator: row.initiator,
    status: row.status,
    resultSeq: row.result_seq,
    partialText: row.partial_text ?? "",
  };
}

export type ApprovalRow = Row<"approvals"> & {
  approvers: "initiator" | "members" | "admins" | "users";
  status: Approval["status"];
  on_expiry: Approval["onExpiry"] | null;
};

/** An approval as the room holds it: its policy's quorum, expiry and votes always filled in. */
export type RoomApproval = Approval & Required<Pick<Approval, "quorum" | "onExpiry" | "votes" | "counted">>;

export function toApproval(row: ApprovalRow): RoomApproval {
  return {
    approvalId: row.approval_id,
    runId: row.run_id,
    agentId: row.agent_id,
    toolCallId: row.tool_call_id,
    method: row.method,
    url: row.url,
    headers: JSON.parse(row.headers) as Record<string, string>,
    body: row.body,
    approvers:
      row.approvers === "users" ? { users: JSON.parse(row.approver_users ?? "[]") as string[] } : row.approvers,
    initiator: row.initiator,
    status: row.status,
    decidedBy: row.decided_by,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    quorum: row.quorum ?? 1,
    onExpiry: row.on_expiry ?? "deny",
    // Filled from `approval_votes` by `approvals.ts`.
    votes: [],
    counted: 0,
    ...(row.after_seq === null ? {} : { afterSeq: row.after_seq }),
  };
}

export type ArtifactRow = Row<"artifacts"> & { kind: Artifact["kind"] };

export function toArtifact(row: ArtifactRow): Artifact {
  const artifact: Artifact = {
    id: row.artifact_id,
    runId: row.run_id,
    kind: row.kind,
    body: row.body,
    truncated: row.truncated === 1,
  };
  if (row.status !== null) artifact.status = row.status;
  if (row.content_type !== null) artifact.contentType = row.content_type;
  return artifact;
}

export type SummaryRow = Row<"summaries">;

export function toSummary(row: Pick<SummaryRow, "version" | "message_cursor" | "text">): Summary {
  return { version: row.version, messageCursor: row.message_cursor, text: row.text };
}
