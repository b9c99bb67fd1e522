/**
 * Rooms learn billing changes by a push: after a Stripe event, a change of limits, or a usage batch that crossed a
 * quota, the org's billing is read once and given to each of its rooms, which keep the newest version they get.
 * A room that misses a push (unreachable for a moment) catches up at its next usage batch, which reads it again.
 */

import { eq } from "drizzle-orm";
import type { Database } from "../api/db/client";
import { chats } from "../api/db/schema";
import { errorFields, log } from "../api/log";
import type { ChatRoom } from "../rooms/chat-room";
import type { RoomBilling } from "./allowance";
import { type BillingSnapshot, readBilling } from "./state";

/** Rooms told at once, at most. */
const IN_FLIGHT = 8;

/** Returns the state pushed and how many rooms could not be told. */
export async function pushBilling(
  env: Env,
  db: Database,
  orgId: string,
): Promise<{ snapshot: BillingSnapshot; failed: number }> {
  const snapshot = await readBilling(db, env, orgId);
  const chatIds = (await db.select({ id: chats.id }).from(chats).where(eq(chats.orgId, orgId))).map((c) => c.id);
  return { snapshot, failed: await tellRooms(env, chatIds, snapshot.room) };
}

export async function tellRooms(env: Env, chatIds: string[], billing: RoomBilling): Promise<number> {
  let failed = 0;
  const queue = [...chatIds];
  async function worker(): Promise<void> {
    for (let chatId = queue.shift(); chatId !== undefined; chatId = queue.shift()) {
      try {
        await (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId).setBilling(billing);
      } catch (error) {
        failed++;
        log("warn", "billing_not_delivered", { chatId, ...errorFields(error) });
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, chatIds.length) }, worker));
  return failed;
}
