/**
 * Whether a room may start an agent run, decided in the room from the billing state the App API last pushed to it
 * and the usage the room has counted but not yet sent: no Postgres round trip on the message path.
 */
import type { BillingStatus, Quotas, RunRefusal } from "../protocol/billing";

export type MeterCounts = { agentRuns: number; tokens: number };

/** An org's billing as a room needs it, read from Postgres and pushed to each of the org's rooms. */
export type RoomBilling = {
  /** Postgres's clock (µs) when this was read: a room keeps the newest it has been given. */
  version: number;
  status: BillingStatus;
  /** From when (ms since the epoch) runs are refused for billing: now for a lapsed org, the grace's end for a
   * `past_due` one; null when billing does not stop runs. */
  lapsedFrom: number | null;
  /** The end of the period `used` counts (ms); past it a new period starts from nothing. */
  periodEnd: number;
  quotas: Quotas;
  /** The org's use this period, as counted in Postgres when this was read. */
  used: MeterCounts;
  /** Members with caps, with their use this period. */
  members: Record<string, { limits: Quotas; used: MeterCounts }>;
};

export type Refusal = Pick<RunRefusal, "code" | "message">;

/** What the room has counted since the `RoomBilling` it holds was read. */
export type Unreported = { org: MeterCounts; member: (userId: string) => MeterCounts };

export function runRefusal(
  billing: RoomBilling | null,
  unreported: Unreported,
  initiator: string,
  now: number,
): Refusal | null {
  if (!billing) return null;
  if (billing.lapsedFrom !== null && now >= billing.lapsedFrom) {
    return {
      code: "billing_lapsed",
      message: `this org's billing has lapsed (${billing.status.replace("_", " ")}); an org admin can settle it under Billing`,
    };
  }
  const newPeriod = now >= billing.periodEnd;
  const orgUse = newPeriod ? unreported.org : sum(billing.used, unreported.org);
  const orgSpent = spent(billing.quotas, orgUse);
  if (orgSpent) return { code: "quota_exceeded", message: `this org has used ${orgSpent} for this billing period` };
  const member = billing.members[initiator];
  if (member) {
    const memberUse = newPeriod ? unreported.member(initiator) : sum(member.used, unreported.member(initiator));
    const memberSpent = spent(member.limits, memberUse);
    if (memberSpent) {
      return {
        code: "quota_exceeded",
        message: `the sender has used ${memberSpent} (a cap an org admin set) for this billing period`,
      };
    }
  }
  return null;
}

/** Which quota `use` has reached, in words, or null. Reaching it is enough: the next run would go past it. */
function spent(quotas: Quotas, use: MeterCounts): string | null {
  if (quotas.agentRunsPerPeriod !== null && use.agentRuns >= quotas.agentRunsPerPeriod) {
    return `all ${quotas.agentRunsPerPeriod} agent runs`;
  }
  if (quotas.tokensPerPeriod !== null && use.tokens >= quotas.tokensPerPeriod) {
    return `all ${quotas.tokensPerPeriod} model tokens`;
  }
  return null;
}

function sum(a: MeterCounts, b: MeterCounts): MeterCounts {
  return { agentRuns: a.agentRuns + b.agentRuns, tokens: a.tokens + b.tokens };
}

export const NOTHING_REFUSED = JSON.stringify(["ok", []]);

/** Whether `billing` refuses runs for the org as a whole or for any capped member, at `now`: for noticing a change. */
export function refusalSignature(billing: RoomBilling, now: number): string {
  const none: Unreported = { org: { agentRuns: 0, tokens: 0 }, member: () => ({ agentRuns: 0, tokens: 0 }) };
  const org = runRefusal({ ...billing, members: {} }, none, "", now)?.code ?? "ok";
  const members = Object.keys(billing.members)
    .filter((userId) => runRefusal(billing, none, userId, now))
    .sort();
  return JSON.stringify([org, members]);
}
