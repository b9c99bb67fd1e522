/**
 * An org's counters in development: its chats from Postgres, each room asked in turn with a few in flight, summed.
 * Production sends the same events to Workers Analytics Engine instead (`rooms/counters.ts`).
 */
import { eq } from "drizzle-orm";
import type { ChatCounters, CountersResponse, RoomCounters } from "../protocol/counters";
import type { Database } from "./db/client";
import { chats } from "./db/schema";
import { roomCounters } from "./orchestrator";

/** Rooms asked at once: each wakes a Durable Object, and an org may have many chats. */
const IN_FLIGHT = 8;

export async function orgChatIds(db: Database, orgId: string): Promise<string[]> {
  const rows = await db.select({ id: chats.id }).from(chats).where(eq(chats.orgId, orgId)).orderBy(chats.createdAt);
  return rows.map((row) => row.id);
}

export async function countersOf(env: Env, orgId: string, chatIds: string[]): Promise<CountersResponse> {
  const results: ChatCounters[] = new Array(chatIds.length);
  let next = 0;
  const worker = async () => {
    while (next < chatIds.length) {
      const i = next++;
      results[i] = await roomCounters(env, chatIds[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, chatIds.length) }, worker));
  return { orgId, totals: sumCounters(results.map((chat) => chat.counters)), chats: results };
}

export function sumCounters(list: RoomCounters[]): RoomCounters {
  const totals: RoomCounters = {
    messages: 0,
    memberMessages: 0,
    openSockets: 0,
    runsStarted: 0,
    runsFailed: 0,
    approvalsPending: 0,
    tokensIn: 0,
    tokensOut: 0,
    runsRefused: 0,
    toolCalls: 0,
    errors: 0,
  };
  for (const counters of list) {
    for (const key of Object.keys(totals) as (keyof RoomCounters)[]) totals[key] += counters[key];
  }
  return totals;
}
