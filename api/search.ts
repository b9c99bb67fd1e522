/**
 * Searching messages: one chat's room, or every chat of an org the caller is in, asked with a few rooms in flight and
 * merged by relevance, then time. The chats come from the caller's memberships, so no other chat is ever asked.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { SearchResult } from "../protocol/message-edits";
import type { SearchHit } from "../rooms/search-index";
import type { Database } from "./db/client";
import { chatMemberships, chats } from "./db/schema";
import { searchRoom } from "./orchestrator";

/** Rooms asked at once: each wakes a Durable Object, and an org may have many chats. */
const IN_FLIGHT = 8;

type Found = SearchHit & { chatId: string };

export async function searchChat(env: Env, chatId: string, q: string, limit: number): Promise<SearchResult[]> {
  return (await searchRoom(env, chatId, q, limit)).map((hit) => result({ ...hit, chatId }));
}

export async function searchOrg(
  db: Database,
  env: Env,
  orgId: string,
  userId: string,
  q: string,
  limit: number,
): Promise<SearchResult[]> {
  const chatIds = (
    await db
      .select({ chatId: chatMemberships.chatId })
      .from(chatMemberships)
      // A deleted chat waiting for its purge is not the caller's to search, as every other route says (404).
      .innerJoin(chats, eq(chats.id, chatMemberships.chatId))
      .where(and(eq(chatMemberships.orgId, orgId), eq(chatMemberships.userId, userId), isNull(chats.deletedAt)))
  ).map((row) => row.chatId);
  const found: Found[] = [];
  let next = 0;
  const worker = async () => {
    while (next < chatIds.length) {
      const chatId = chatIds[next++];
      for (const hit of await searchRoom(env, chatId, q, limit)) found.push({ ...hit, chatId });
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, chatIds.length) }, worker));
  return found.sort(byRelevanceThenTime).slice(0, limit).map(result);
}

/** bm25: lower is more relevant; ties go to the newer message. */
function byRelevanceThenTime(a: Found, b: Found): number {
  return a.rank - b.rank || b.message.createdAt.localeCompare(a.message.createdAt);
}

function result(hit: Found): SearchResult {
  return { chatId: hit.chatId, message: hit.message, snippet: hit.snippet };
}
