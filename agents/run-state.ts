/**
 * A run's progress, kept in the agent's own SQLite so a run can wait for a human for as long as it takes (across
 * evictions and restarts) and continue where it stopped: the conversation so far, the reply text so far, and the
 * tool call waiting for approval. `executing` marks an approved request that may already have gone out.
 */
import type { ModelMessage } from "ai";
import type { RunRequest } from "../protocol/agent-runs";
import type { HttpRequestInput } from "../protocol/agents";
import type { Summary } from "./room";

export type ToolResult = { toolCallId: string; toolName: string; output: Record<string, unknown> };

export type PendingCall = {
  /** Null between saving the wait and the room confirming the request. */
  approvalId: string | null;
  toolCallId: string;
  input: HttpRequestInput;
  /** Results of the other calls of the same step, answered together once this one is decided. */
  done: ToolResult[];
  /** Calls of the same step after this one, not yet run. */
  later: { toolCallId: string; toolName: string; input: unknown }[];
};

export type RunState = {
  request: RunRequest;
  messages: ModelMessage[];
  text: string;
  artifactIds: string[];
  steps: number;
  /** `decided`: a decision arrived and is saved, the call not yet made; a restart picks it up from here. */
  phase: "running" | "waiting" | "decided" | "executing" | "done";
  decision?: "approved" | "denied" | "expired";
  pending: PendingCall | null;
  /** The fiber now driving the run; a recovered fiber that is not this one is stale and changes nothing. */
  attempt: string | null;
  /** The chat's summary when the run started; every step of the run sees the same one. */
  summary?: Summary | null;
};

type Sql = SqlStorage;

export function migrateRunState(sql: Sql): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS run_state (
    run_id TEXT PRIMARY KEY,
    state TEXT NOT NULL
  )`);
}

export function createRunState(sql: Sql, request: RunRequest): boolean {
  const state: RunState = {
    request,
    messages: [],
    text: "",
    artifactIds: [],
    steps: 0,
    phase: "running",
    pending: null,
    attempt: null,
  };
  const inserted = sql
    .exec(
      "INSERT INTO run_state (run_id, state) VALUES (?, ?) ON CONFLICT (run_id) DO NOTHING RETURNING run_id",
      request.runId,
      JSON.stringify(state),
    )
    .toArray();
  return inserted.length > 0;
}

export function loadRunState(sql: Sql, runId: string): RunState | null {
  const row = sql.exec<{ state: string }>("SELECT state FROM run_state WHERE run_id = ?", runId).toArray()[0];
  return row ? (JSON.parse(row.state) as RunState) : null;
}

export function saveRunState(sql: Sql, state: RunState): void {
  sql.exec("UPDATE run_state SET state = ? WHERE run_id = ?", JSON.stringify(state), state.request.runId);
}
