/**
 * Agent runs as the room sees them: one SQL row per run, written when it starts, pauses and ends, never per token.
 * (The live text of runs in progress is kept in memory: `streaming-runs.ts`.)
 */
import { type RunRow, toRunRecord } from "./rows";

export type RunRecord = {
  runId: string;
  agentId: string;
  triggerSeq: number;
  initiator: string;
  status: "running" | "finished" | "failed" | "stopped";
  resultSeq: number | null;
  /** The reply so far, as saved at the run's last pause. */
  partialText: string;
};

/**
 * A run that has not ended by its deadline (and is not waiting for a human) is failed by the room: an agent that
 * vanished mid-run must not leave "writing…" on everyone's screen forever. A decision restarts the clock.
 */
export const RUN_DEADLINE_MS = 15 * 60_000;

export function recordRun(
  sql: SqlStorage,
  run: Omit<RunRecord, "status" | "resultSeq" | "partialText"> & { runSecret: string },
): void {
  const now = Date.now();
  sql.exec(
    `INSERT INTO runs (run_id, agent_id, trigger_seq, initiator, status, started_at, deadline, run_secret)
     VALUES (?, ?, ?, ?, 'running', ?, ?, ?)`,
    run.runId,
    run.agentId,
    run.triggerSeq,
    run.initiator,
    new Date(now).toISOString(),
    new Date(now + RUN_DEADLINE_MS).toISOString(),
    run.runSecret,
  );
}

/** Whether `secret` is the one minted for the run (compared in constant time). */
export function runSecretMatches(sql: SqlStorage, runId: string, secret: string): boolean {
  const row = sql
    .exec<{ run_secret: string | null }>("SELECT run_secret FROM runs WHERE run_id = ?", runId)
    .toArray()[0];
  const stored = row?.run_secret;
  if (!stored || stored.length !== secret.length) return false;
  let difference = 0;
  for (let i = 0; i < stored.length; i++) difference |= stored.charCodeAt(i) ^ secret.charCodeAt(i);
  return difference === 0;
}

/** A secret for one run's capability: 256 random bits. */
export function mintRunSecret(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function extendDeadline(sql: SqlStorage, runId: string): void {
  sql.exec(
    "UPDATE runs SET deadline = ? WHERE run_id = ?",
    new Date(Date.now() + RUN_DEADLINE_MS).toISOString(),
    runId,
  );
}

/** A run waiting for a decision has its clock paused (a decision restarts it). */
const NOT_WAITING =
  "NOT EXISTS (SELECT 1 FROM approvals WHERE approvals.run_id = runs.run_id AND approvals.status = 'pending')";

/** Runs past their deadline that wait for no decision. */
export function overdueRuns(sql: SqlStorage, now: Date): string[] {
  return sql
    .exec<{ run_id: string }>(
      `SELECT run_id FROM runs WHERE status = 'running' AND deadline <= ? AND ${NOT_WAITING}`,
      now.toISOString(),
    )
    .toArray()
    .map((row) => row.run_id);
}

/** The earliest deadline of a run in progress that waits for no decision. */
export function nextRunDeadline(sql: SqlStorage): Date | null {
  const at = sql
    .exec<{ at: string | null }>(`SELECT min(deadline) AS at FROM runs WHERE status = 'running' AND ${NOT_WAITING}`)
    .one().at;
  return at ? new Date(at) : null;
}

export function runRecord(sql: SqlStorage, runId: string): RunRecord | null {
  const row = sql.exec<RunRow>("SELECT * FROM runs WHERE run_id = ?", runId).toArray()[0];
  return row ? toRunRecord(row) : null;
}

/**
 * The reply so far, saved when a run pauses (waiting for a human can outlast the room's time in memory), so a
 * room that wakes from hibernation can still give late joiners the right snapshot.
 */
export function savePartialText(sql: SqlStorage, runId: string, text: string): void {
  sql.exec("UPDATE runs SET partial_text = ? WHERE run_id = ?", text, runId);
}

/** Runs parked on a `wait` approval past its expiry that a chat keeps without counting them toward its slots. */
export const MAX_PARKED_RUNS = 50;

/**
 * Runs that hold one of the chat's run slots: those in progress, except runs parked on a `wait` approval past its
 * expiry. Such a run may wait for days and holds nothing but its rows meanwhile (the agent sleeps until a decision),
 * so it must not keep the chat from starting others; but only `MAX_PARKED_RUNS` of them go free, or a short timeout
 * would let parked runs pile up without bound (and a round of decisions resume them all at once). A decision resumes
 * a parked run even if the chat's slots are full then.
 */
export function runSlotsTaken(sql: SqlStorage, now: Date): number {
  const { active, parked } = sql
    .exec<{ active: number; parked: number }>(
      `SELECT count(*) FILTER (WHERE NOT parked) AS active, count(*) FILTER (WHERE parked) AS parked FROM (
         SELECT EXISTS (
           SELECT 1 FROM approvals WHERE approvals.run_id = runs.run_id AND approvals.status = 'pending'
             AND approvals.on_expiry = 'wait' AND approvals.expires_at <= ?) AS parked
         FROM runs WHERE status = 'running')`,
      now.toISOString(),
    )
    .one();
  return active + Math.max(0, parked - MAX_PARKED_RUNS);
}

export function runningRuns(sql: SqlStorage): RunRecord[] {
  return sql.exec<RunRow>("SELECT * FROM runs WHERE status = 'running'").toArray().map(toRunRecord);
}

export function endRun(
  sql: SqlStorage,
  runId: string,
  status: Exclude<RunRecord["status"], "running">,
  resultSeq: number,
): void {
  sql.exec("UPDATE runs SET status = ?, result_seq = ? WHERE run_id = ?", status, resultSeq, runId);
}
