/**
 * A taken-down listing's installers are told where it matters: a Parlor notice in every chat where an agent
 * installed from it sits. Keyed per listing and agent, so a retried take-down posts each notice once.
 */
import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { agents, chatAgents, marketplaceInstalls } from "../db/schema";
import { log } from "../log";
import { noticeInRoom } from "../orchestrator";

export async function noticeTakeDown(
  env: Env,
  db: Database,
  listing: { id: string; name: string },
  reason: string,
): Promise<number> {
  const seats = await db
    .select({ chatId: chatAgents.chatId, agentId: agents.id, handle: agents.handle })
    .from(marketplaceInstalls)
    .innerJoin(agents, eq(agents.id, marketplaceInstalls.agentId))
    .innerJoin(chatAgents, eq(chatAgents.agentId, agents.id))
    .where(eq(marketplaceInstalls.listingId, listing.id));
  const results = await Promise.allSettled(
    seats.map((seat) =>
      noticeInRoom(
        env,
        seat.chatId,
        `marketplace-down:${listing.id}:${seat.agentId}`,
        `@${seat.handle} was installed from the marketplace listing "${listing.name}", which a moderator has ` +
          `taken down (${reason}). It keeps working here until an org admin removes it.`,
      ),
    ),
  );
  const failed = results.filter((result) => result.status === "rejected").length;
  if (failed > 0) log("warn", "marketplace_notice_failed", { listingId: listing.id, failed });
  return seats.length;
}
