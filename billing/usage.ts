/**
 * Usage batches from rooms: counted into the org's period in Postgres once per batch key, then reported to Stripe as
 * meter events whose identifiers derive from the same key, so a batch sent again counts nowhere twice.
 */
import { eq, sql } from "drizzle-orm";
import type { Database } from "../api/db/client";
import { memberUsage, orgBilling, orgs, orgUsage, usageBatches } from "../api/db/schema";
import { periodAt } from "./plans";
import { alreadyExists, stripeClient } from "./stripe-client";

export type UsageBatch = {
  /** The room's chat and the ranges the batch covers: the same batch always has the same key. */
  key: string;
  /** When the room cut it (ms): the period it counts in. */
  cutAt: number;
  messages: number;
  members: { userId: string; agentRuns: number; tokensIn: number; tokensOut: number }[];
};

/** The Stripe meters Parlor reports to, by event name. */
export const METERS = {
  parlor_messages: (b: UsageBatch) => b.messages,
  parlor_agent_runs: (b: UsageBatch) => total(b, "agentRuns"),
  parlor_tokens_in: (b: UsageBatch) => total(b, "tokensIn"),
  parlor_tokens_out: (b: UsageBatch) => total(b, "tokensOut"),
} as const;

function total(batch: UsageBatch, field: "agentRuns" | "tokensIn" | "tokensOut"): number {
  return batch.members.reduce((sum, member) => sum + member[field], 0);
}

/** `org_gone`: the org no longer exists, so there is nothing to count against. */
export async function countUsage(
  db: Database,
  orgId: string,
  batch: UsageBatch,
): Promise<"counted" | "already" | "org_gone"> {
  return db.transaction(async (tx) => {
    const [org] = await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, orgId));
    if (!org) return "org_gone";
    const fresh = await tx
      .insert(usageBatches)
      .values({ key: batch.key, orgId })
      .onConflictDoNothing()
      .returning({ key: usageBatches.key });
    if (fresh.length === 0) return "already";
    const [stored] = await tx
      .select({ start: orgBilling.periodStart, end: orgBilling.periodEnd })
      .from(orgBilling)
      .where(eq(orgBilling.orgId, orgId));
    const period = periodAt(new Date(batch.cutAt), { start: stored?.start ?? null, end: stored?.end ?? null });
    const runs = total(batch, "agentRuns");
    const tokensIn = total(batch, "tokensIn");
    const tokensOut = total(batch, "tokensOut");
    await tx
      .insert(orgUsage)
      .values({ orgId, periodStart: period.start, messages: batch.messages, agentRuns: runs, tokensIn, tokensOut })
      .onConflictDoUpdate({
        target: [orgUsage.orgId, orgUsage.periodStart],
        set: {
          messages: sql`${orgUsage.messages} + ${batch.messages}`,
          agentRuns: sql`${orgUsage.agentRuns} + ${runs}`,
          tokensIn: sql`${orgUsage.tokensIn} + ${tokensIn}`,
          tokensOut: sql`${orgUsage.tokensOut} + ${tokensOut}`,
        },
      });
    for (const member of batch.members) {
      await tx
        .insert(memberUsage)
        .values({ orgId, periodStart: period.start, ...member })
        .onConflictDoUpdate({
          target: [memberUsage.orgId, memberUsage.periodStart, memberUsage.userId],
          set: {
            agentRuns: sql`${memberUsage.agentRuns} + ${member.agentRuns}`,
            tokensIn: sql`${memberUsage.tokensIn} + ${member.tokensIn}`,
            tokensOut: sql`${memberUsage.tokensOut} + ${member.tokensOut}`,
          },
        });
    }
    return "counted";
  });
}

/**
 * Sends the batch's meter events when Stripe is configured and the org is a Stripe customer; once done, the batch
 * is marked metered. Throws when Stripe cannot be reached, so the room sends the batch again later.
 */
export async function meterUsage(env: Env, db: Database, batch: UsageBatch): Promise<void> {
  const stripe = stripeClient(env);
  if (!stripe) return;
  const [row] = await db
    .select({ meteredAt: usageBatches.meteredAt, customer: orgBilling.stripeCustomerId })
    .from(usageBatches)
    .leftJoin(orgBilling, eq(orgBilling.orgId, usageBatches.orgId))
    .where(eq(usageBatches.key, batch.key));
  if (!row || row.meteredAt || !row.customer) return;
  for (const [eventName, value] of Object.entries(METERS)) {
    const amount = value(batch);
    if (amount === 0) continue;
    const identifier = await meterIdentifier(batch.key, eventName);
    try {
      await stripe.billing.meterEvents.create(
        {
          event_name: eventName,
          identifier,
          timestamp: Math.floor(batch.cutAt / 1000),
          payload: { stripe_customer_id: row.customer, value: String(amount) },
        },
        { idempotencyKey: identifier },
      );
    } catch (error) {
      // Sent before (an earlier attempt got through but its answer was lost): Stripe counted it once.
      if (!alreadyExists(error)) throw error;
    }
  }
  await db.update(usageBatches).set({ meteredAt: new Date() }).where(eq(usageBatches.key, batch.key));
}

/** Stripe's identifiers are at most 100 characters: a digest of the batch key and the meter. */
async function meterIdentifier(key: string, eventName: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${key}|${eventName}`));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `parlor_${hex.slice(0, 48)}`;
}
