/**
 * The room's counter events: each one is a data point in Workers Analytics Engine when the `COUNTERS` binding exists
 * (production only), and a number in memory for `GET /api/dev/counters`. Writing a data point is fire-and-forget
 * (no await, no request of its own), so counting costs the message path nothing it waits on.
 *
 * Most events are read off what the room broadcasts anyway (`eventOf`), so no module on the message path calls in.
 */
import type { CounterEvent, RoomCounters } from "../protocol/counters";
import type { RoomEvent } from "./room-state";

export type ChatKey = { orgId: string; chatId: string };

/**
 * One data point: `index1` the org (Analytics Engine samples per index, so an org's counts stay together), `blob1`
 * the event, `blob2` the org, `blob3` the chat, `double1` how many, `double2` a level after the event when there is
 * one (open sockets).
 */
export function dataPoint(event: CounterEvent, chat: ChatKey, n = 1, level?: number): AnalyticsEngineDataPoint {
  return {
    indexes: [chat.orgId],
    blobs: [event, chat.orgId, chat.chatId],
    doubles: level === undefined ? [n] : [n, level],
  };
}

/** The counter event a broadcast stands for, if any. */
export function eventOf(event: RoomEvent): CounterEvent | null {
  switch (event.type) {
    case "message":
      return "message";
    case "run.started":
      return "run_started";
    case "run.finished":
      return "run_finished";
    case "run.failed":
      return "run_failed";
    case "approval.requested":
      return "approval_requested";
    case "approval.decided":
      return "approval_decided";
    case "run.tool":
      // A call reports `running` once, when it starts; later states are the same call.
      return event.status === "running" ? "tool_call" : null;
    default:
      return null;
  }
}

/** Counts of events with no durable trace in the room, since it woke. */
export type SinceWake = { since: string; runsRefused: number; toolCalls: number; errors: number };

/** Levels some events carry (`double2`), read only when a data point is written. */
export type Levels = Partial<Record<CounterEvent, () => number>>;

export class RoomCounterLog {
  readonly sinceWake: SinceWake = { since: new Date().toISOString(), runsRefused: 0, toolCalls: 0, errors: 0 };

  constructor(
    private readonly dataset: AnalyticsEngineDataset | undefined,
    private readonly chatOf: () => ChatKey | null,
    private readonly levels: Levels = {},
  ) {}

  /** Without a dataset (development, tests) a count costs at most an increment. */
  count(event: CounterEvent, n = 1): void {
    if (event === "run_refused") this.sinceWake.runsRefused += n;
    else if (event === "tool_call") this.sinceWake.toolCalls += n;
    else if (event === "error") this.sinceWake.errors += n;
    if (!this.dataset) return;
    try {
      const chat = this.chatOf();
      if (chat) this.dataset.writeDataPoint(dataPoint(event, chat, n, this.levels[event]?.()));
    } catch {
      // A counter must never fail the work it counts.
    }
  }

  /** For every broadcast: counts the events it stands for. */
  observe(event: RoomEvent): void {
    const counted = eventOf(event);
    if (counted) this.count(counted);
  }
}

/**
 * The room's counters: what its own tables say (nothing written to count them), the sockets open now, and what it
 * counted in memory since it woke.
 */
export function roomCounters(sql: SqlStorage, openSockets: number, sinceWake: SinceWake): RoomCounters {
  const messages = sql
    .exec<{ total: number; members: number }>(
      "SELECT count(*) AS total, coalesce(sum(author_type = 'user'), 0) AS members FROM messages",
    )
    .one();
  const runs = sql
    .exec<{ started: number; failed: number }>(
      "SELECT count(*) AS started, coalesce(sum(status = 'failed'), 0) AS failed FROM runs",
    )
    .one();
  const pending = pendingApprovals(sql);
  const tokens = sql
    .exec<{ tokensIn: number; tokensOut: number }>(
      "SELECT coalesce(sum(tokens_in), 0) AS tokensIn, coalesce(sum(tokens_out), 0) AS tokensOut FROM usage_log",
    )
    .one();
  return {
    messages: messages.total,
    memberMessages: messages.members,
    openSockets,
    runsStarted: runs.started,
    runsFailed: runs.failed,
    approvalsPending: pending,
    tokensIn: tokens.tokensIn,
    tokensOut: tokens.tokensOut,
    runsRefused: sinceWake.runsRefused,
    toolCalls: sinceWake.toolCalls,
    errors: sinceWake.errors,
  };
}

export function pendingApprovals(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT count(*) AS n FROM approvals WHERE status = 'pending'").one().n;
}
