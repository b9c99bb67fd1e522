/**
 * What the room's modules work on: its SQL and bindings, how it reaches every socket and its alarm, and the little
 * it keeps in memory. `ChatRoom` makes one when it wakes; everything but the SQL is gone after hibernation.
 */
import type { ChatLifecycle } from "../api/db/chat-lifecycle";
import type { RoomBilling } from "../billing/allowance";
import type { ApprovalEvent, RunEvent } from "../protocol/agents";
import type { ServerEvent } from "../protocol/chat";
import type { ChatUpdatedEvent } from "../protocol/chat-lifecycle";
import type { MessageEditEvent } from "../protocol/message-edits";
import { activeChat } from "./activation";
import type { ChatRef } from "./room-address";
import { type RoomAgent, roomAgents } from "./room-agents";
import { LiveRuns } from "./streaming-runs";
import { latestSummary, type Summary } from "./summaries";

export type RoomEvent = ServerEvent | RunEvent | ApprovalEvent | MessageEditEvent | ChatUpdatedEvent;

export type RoomState = {
  readonly sql: SqlStorage;
  readonly env: Env;
  readonly broadcast: (event: RoomEvent) => void;
  /** Sets the room's one alarm to the earliest wake its scheduled jobs need (`scheduler.ts`). */
  readonly reschedule: () => void;
  /** Sends an event to these members' sockets only (set by `ChatRoom`). */
  sendTo?: (userIds: string[], event: RoomEvent) => void;
  /**
   * What the message path reads on every message, kept in memory: SQLite stays the truth, and every writer of
   * these clears its entry (a wake from hibernation starts empty).
   */
  readonly cache: {
    chat?: ChatRef | null;
    agents?: RoomAgent[];
    summary?: Summary | null;
    billing?: RoomBilling | null;
    lifecycle?: ChatLifecycle | null;
  };
  /** The text and tools of runs in progress, for late joiners' snapshots. */
  readonly live: LiveRuns;
  /** Live-progress updates, chained so they land in order. */
  progress: Promise<void>;
  /** The summary version last asked for, and when: one request per version while the job works. */
  summaryAsked: { version: number; at: number } | null;
  /** When decisions were last sent to agents: one not taken is sent again at a pace, not on every wake. */
  decisionsSentAt: number | null;
  /** Since when usage has waited for a batch (`usage-batches.ts`); null once the alarm is set to send it. */
  usageSince: number | null;
};

export function roomState(
  sql: SqlStorage,
  env: Env,
  broadcast: (event: RoomEvent) => void,
  reschedule: () => void,
): RoomState {
  return {
    sql,
    env,
    broadcast,
    reschedule,
    cache: {},
    live: new LiveRuns(),
    progress: Promise.resolve(),
    summaryAsked: null,
    decisionsSentAt: null,
    usageSince: null,
  };
}

/** The chat this room serves; not cached until the room has learnt it. */
export function cachedChat(room: RoomState): ChatRef | null {
  if (room.cache.chat === undefined || room.cache.chat === null) room.cache.chat = activeChat(room.sql);
  return room.cache.chat;
}

export function cachedAgents(room: RoomState): RoomAgent[] {
  room.cache.agents ??= roomAgents(room.sql);
  return room.cache.agents;
}

export function cachedSummary(room: RoomState): Summary | null {
  if (room.cache.summary === undefined) room.cache.summary = latestSummary(room.sql);
  return room.cache.summary;
}
