/**
 * Plans and periods: which quotas and grace period apply to an org (`PARLOR_PLANS`, `PARLOR_DEFAULT_PLAN`), and
 * which billing period a moment falls in.
 */
import { type PlansConfig, plansConfig, type Quotas } from "../protocol/billing";

export type Plan = { name: string | null; quotas: Quotas; graceDays: number };

/** Without `PARLOR_DEFAULT_PLAN` (development): no quotas, no grace. */
const UNLIMITED: Plan = { name: null, quotas: { agentRunsPerPeriod: null, tokensPerPeriod: null }, graceDays: 0 };

/** Reads `PARLOR_PLANS`; a malformed value throws with a message naming the variable. */
export function readPlans(env: Pick<Env, "PARLOR_PLANS">): PlansConfig {
  if (!env.PARLOR_PLANS) return {};
  let json: unknown;
  try {
    json = JSON.parse(env.PARLOR_PLANS);
  } catch {
    throw new Error("PARLOR_PLANS is not JSON");
  }
  const parsed = plansConfig.safeParse(json);
  if (!parsed.success) throw new Error(`PARLOR_PLANS is malformed: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/**
 * The plan an org is on: the one its subscription names when `PARLOR_PLANS` has it, else the default. A name the
 * configuration does not know falls back to the default rather than to no quotas at all.
 */
export function planFor(env: Pick<Env, "PARLOR_PLANS" | "PARLOR_DEFAULT_PLAN">, stored: string | null): Plan {
  const plans = readPlans(env);
  for (const name of [stored, env.PARLOR_DEFAULT_PLAN]) {
    const plan = name ? plans[name] : undefined;
    if (name && plan) {
      return {
        name,
        quotas: { agentRunsPerPeriod: plan.agentRunsPerPeriod, tokensPerPeriod: plan.tokensPerPeriod },
        graceDays: plan.graceDays,
      };
    }
  }
  return UNLIMITED;
}

export type Period = { start: Date; end: Date };

/**
 * The billing period holding `now`: the subscription's, carried forward a month at a time when its renewal has not
 * arrived yet; with no subscription, the calendar month (UTC).
 */
export function periodAt(now: Date, subscription: { start: Date | null; end: Date | null }): Period {
  let { start, end } = subscription;
  if (!start || !end || end <= start) {
    const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    return { start: monthStart, end: addMonths(monthStart, 1) };
  }
  // At most a few steps: periods are months and renewals arrive within days.
  for (let i = 0; i < 120 && now >= end; i++) {
    start = end;
    end = addMonths(end, 1);
  }
  return { start, end };
}

function addMonths(date: Date, months: number): Date {
  const next = new Date(date);
  next.setUTCMonth(next.getUTCMonth() + months);
  return next;
}
