/**
 * An org's billing as stored: what `GET /api/orgs/:orgId/billing` answers and what rooms are given to decide runs on
 * their own. Read in one snapshot, so the usage, the limits and the status agree with each other.
 */
import { and, count, eq, sql } from "drizzle-orm";
import type { Database } from "../api/db/client";
import { memberLimits, memberUsage, orgBilling, orgMemberships, orgUsage } from "../api/db/schema";
import type { Billing } from "../protocol/billing";
import { type RoomBilling, runRefusal } from "./allowance";
import { periodAt, planFor } from "./plans";

const DAY_MS = 86_400_000;

export type BillingSnapshot = { billing: Billing; room: RoomBilling };

export async function readBilling(
  db: Database,
  env: Pick<Env, "PARLOR_PLANS" | "PARLOR_DEFAULT_PLAN">,
  orgId: string,
  now = new Date(),
): Promise<BillingSnapshot> {
  return db.transaction(
    async (tx) => {
      // The first statement takes the snapshot; the clock read in it orders this reading among others.
      const {
        rows: [{ version }],
      } = await tx.execute<{ version: string }>(
        sql`SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text AS version`,
      );
      const [stored] = await tx.select().from(orgBilling).where(eq(orgBilling.orgId, orgId));
      const [{ seats }] = await tx
        .select({ seats: count() })
        .from(orgMemberships)
        .where(eq(orgMemberships.orgId, orgId));
      const period = periodAt(now, { start: stored?.periodStart ?? null, end: stored?.periodEnd ?? null });
      const [usage] = await tx
        .select()
        .from(orgUsage)
        .where(and(eq(orgUsage.orgId, orgId), eq(orgUsage.periodStart, period.start)));
      const capped = await tx
        .select({
          userId: memberLimits.userId,
          agentRunsPerPeriod: memberLimits.agentRunsPerPeriod,
          tokensPerPeriod: memberLimits.tokensPerPeriod,
          agentRuns: memberUsage.agentRuns,
          tokensIn: memberUsage.tokensIn,
          tokensOut: memberUsage.tokensOut,
        })
        .from(memberLimits)
        .leftJoin(
          memberUsage,
          and(
            eq(memberUsage.orgId, memberLimits.orgId),
            eq(memberUsage.userId, memberLimits.userId),
            eq(memberUsage.periodStart, period.start),
          ),
        )
        .where(eq(memberLimits.orgId, orgId));

      const status = stored?.status ?? "none";
      const plan = planFor(env, stored?.plan ?? null);
      const graceEndsAt =
        status === "past_due" ? (stored?.pastDueSince ?? now).getTime() + plan.graceDays * DAY_MS : null;
      const lapsedFrom = status === "unpaid" || status === "canceled" ? 0 : graceEndsAt;
      const usageCounts = {
        messages: usage?.messages ?? 0,
        agentRuns: usage?.agentRuns ?? 0,
        tokensIn: usage?.tokensIn ?? 0,
        tokensOut: usage?.tokensOut ?? 0,
      };
      const members = capped.map((row) => ({
        userId: row.userId,
        limits: { agentRunsPerPeriod: row.agentRunsPerPeriod, tokensPerPeriod: row.tokensPerPeriod },
        usage: { agentRuns: row.agentRuns ?? 0, tokensIn: row.tokensIn ?? 0, tokensOut: row.tokensOut ?? 0 },
      }));
      const room: RoomBilling = {
        version: Number(version),
        status,
        lapsedFrom,
        periodEnd: period.end.getTime(),
        quotas: plan.quotas,
        used: { agentRuns: usageCounts.agentRuns, tokens: usageCounts.tokensIn + usageCounts.tokensOut },
        members: Object.fromEntries(
          members.map((m) => [
            m.userId,
            { limits: m.limits, used: { agentRuns: m.usage.agentRuns, tokens: m.usage.tokensIn + m.usage.tokensOut } },
          ]),
        ),
      };
      const none = { agentRuns: 0, tokens: 0 };
      const refusing =
        runRefusal({ ...room, members: {} }, { org: none, member: () => none }, "", now.getTime())?.code ?? null;
      const billing: Billing = {
        status,
        plan: plan.name,
        seats,
        periodStart: period.start.toISOString(),
        periodEnd: period.end.toISOString(),
        usage: usageCounts,
        quotas: plan.quotas,
        graceEndsAt: graceEndsAt === null ? null : new Date(graceEndsAt).toISOString(),
        refusing,
        members,
      };
      return { billing, room };
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}
