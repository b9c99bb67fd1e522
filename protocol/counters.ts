/**
 * Counters per chat and per org: what production sends to Workers Analytics Engine, as development shows them
 * (`GET /api/dev/counters`). The event names are the `blob1` values of the production data points.
 */
import { z } from "zod";
import { timestamp, uuid } from "./primitives";

/**
 * What one data point counts (its `blob1`); `double1` is how many. Socket events carry the sockets open after them
 * in `double2`; approval events and runs' ends carry the approvals pending after them.
 */
export const COUNTER_EVENTS = [
  "message",
  "socket_opened",
  "socket_closed",
  "run_started",
  "run_refused",
  "run_finished",
  "run_failed",
  "tool_call",
  "approval_requested",
  "approval_decided",
  "error",
] as const;
export type CounterEvent = (typeof COUNTER_EVENTS)[number];

const count = z.number().int().nonnegative();

export const roomCountersSchema = z
  .object({
    /** Stored messages, from the log: every author, and members' alone. */
    messages: count,
    memberMessages: count,
    /** Sockets open on the room now. */
    openSockets: count,
    /** From the room's `runs` table: every run it started, and those that failed. */
    runsStarted: count,
    runsFailed: count,
    /** Requests awaiting a decision now. */
    approvalsPending: count,
    /** Model tokens the room counted for billing (runs and summaries). */
    tokensIn: count,
    tokensOut: count,
    /** Since the room woke (`since`): these leave no durable trace, so a room that slept starts them at 0. */
    runsRefused: count,
    toolCalls: count,
    errors: count,
  })
  .meta({ id: "RoomCounters" });
export type RoomCounters = z.infer<typeof roomCountersSchema>;

export const chatCountersSchema = z
  .object({
    chatId: uuid,
    /** When the room woke: `runsRefused`, `toolCalls` and `errors` count from then. */
    since: timestamp,
    counters: roomCountersSchema,
  })
  .meta({ id: "ChatCounters" });
export type ChatCounters = z.infer<typeof chatCountersSchema>;

export const countersQuery = z.object({
  orgId: uuid,
  /** One chat of the org; without it, every chat of the org, summed. */
  chatId: uuid.optional(),
});

export const countersResponse = z.object({
  orgId: uuid,
  /** The sum over `chats`. */
  totals: roomCountersSchema,
  chats: z.array(chatCountersSchema),
});
export type CountersResponse = z.infer<typeof countersResponse>;
