/**
 * Seats: the subscription's quantity is the org's member count, sent as an absolute number after each committed
 * membership change (and after a subscription event names the seat item). Absolute, so a repeat or a late call
 * cannot add seats; recounted after sending, so a change that landed meanwhile is sent too.
 */

import { count, eq } from "drizzle-orm";
import type { Database } from "../api/db/client";
import { orgBilling, orgMemberships } from "../api/db/schema";
import { errorFields, log } from "../api/log";
import { stripeClient } from "./stripe-client";

export async function memberCount(db: Database, orgId: string): Promise<number> {
  const [{ seats }] = await db.select({ seats: count() }).from(orgMemberships).where(eq(orgMemberships.orgId, orgId));
  return seats;
}

/** Never throws: a membership change is committed whatever Stripe says; the next change or event tries again. */
export async function syncSeats(env: Env, db: Database, orgId: string): Promise<void> {
  const stripe = stripeClient(env);
  if (!stripe) return;
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const [billing] = await db
        .select({ item: orgBilling.stripeSubscriptionItemId, reported: orgBilling.seatsReported })
        .from(orgBilling)
        .where(eq(orgBilling.orgId, orgId));
      if (!billing?.item) return;
      const seats = await memberCount(db, orgId);
      if (seats === billing.reported) return;
      // One key per intended change: the library's own retries of this call replay it instead of repeating it.
      await stripe.subscriptionItems.update(
        billing.item,
        { quantity: seats },
        { idempotencyKey: `parlor-seats-${orgId}-${crypto.randomUUID()}` },
      );
      await db.update(orgBilling).set({ seatsReported: seats }).where(eq(orgBilling.orgId, orgId));
    }
  } catch (error) {
    log("error", "seat_count_not_sent", { orgId, ...errorFields(error) });
  }
}
