/**
 * Billing in the contract: an org's Stripe state, its usage this period against its plan's quotas, and caps per
 * member set by admins. Quotas and caps are counts per billing period; null means unlimited.
 */
import { z } from "zod";
import { BILLING_STATUSES, RUN_REFUSALS } from "./enums";
import { timestamp, userId, uuid } from "./primitives";

export const billingStatus = z.enum(BILLING_STATUSES);
export type BillingStatus = z.infer<typeof billingStatus>;

/** A count per period; null: unlimited. */
const limit = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable();

export const quotasSchema = z
  .object({ agentRunsPerPeriod: limit, tokensPerPeriod: limit })
  .meta({ id: "Quotas", description: "Per billing period; null is unlimited. Tokens count in and out together." });
export type Quotas = z.infer<typeof quotasSchema>;

export const usageSchema = z
  .object({
    /** Messages stored by members and agents (system notices are not counted). */
    messages: z.number().int().min(0),
    agentRuns: z.number().int().min(0),
    tokensIn: z.number().int().min(0),
    tokensOut: z.number().int().min(0),
  })
  .meta({ id: "Usage" });
export type Usage = z.infer<typeof usageSchema>;

export const memberLimitsSchema = quotasSchema.meta({ id: "MemberLimits" });
export type MemberLimits = z.infer<typeof memberLimitsSchema>;

export const memberUsageSchema = z
  .object({ userId, limits: memberLimitsSchema, usage: usageSchema.omit({ messages: true }) })
  .meta({ id: "MemberUsage" });

export const billingSchema = z
  .object({
    status: billingStatus,
    /** The plan whose quotas apply (`PARLOR_PLANS`); null: the default, unlimited development plan. */
    plan: z.string().nullable(),
    /** Active org members, the subscription's quantity. */
    seats: z.number().int().min(0),
    periodStart: timestamp,
    periodEnd: timestamp,
    /** Counted by rooms and sent in batches, so it trails live use by up to `PARLOR_USAGE_BATCH_MS`. */
    usage: usageSchema,
    quotas: quotasSchema,
    /** When `past_due` turns into a lapse (the plan's grace period), else null. */
    graceEndsAt: timestamp.nullable(),
    /** Whether agent runs are refused right now, and why: `billing_lapsed` or `quota_exceeded`, else null. */
    refusing: z.enum(RUN_REFUSALS).nullable(),
    /** Members with caps of their own, with their use this period. */
    members: z.array(memberUsageSchema),
  })
  .meta({ id: "Billing" });
export type Billing = z.infer<typeof billingSchema>;
export const billingResponse = z.object({ billing: billingSchema });

export const sessionUrlResponse = z.object({ url: z.url() });

/** Omitted: unchanged; null: no cap. */
export const memberLimitsBody = z
  .object({ agentRunsPerPeriod: limit.optional(), tokensPerPeriod: limit.optional() })
  .strict()
  .refine((body) => body.agentRunsPerPeriod !== undefined || body.tokensPerPeriod !== undefined, "nothing to change");
export const memberLimitsResponse = z.object({ limits: memberLimitsSchema });
export const memberParams = z.object({ orgId: z.string(), userId: z.string() });

/** A run a message would have started, not started because of billing or a quota. */
export const runRefusalSchema = z
  .object({ agentId: uuid, code: z.enum(RUN_REFUSALS), message: z.string() })
  .meta({ id: "RunRefusal" });
export type RunRefusal = z.infer<typeof runRefusalSchema>;

/** What `POST /api/webhooks/stripe` answers (Stripe only reads the status). */
export const stripeWebhookResponse = z.object({
  received: z.literal(true),
  /** An event for an unknown org, of a type Parlor does not handle, or older than what is stored. */
  ignored: z.literal(true).optional(),
  /** A redelivery of an event id already applied: nothing changed. */
  duplicate: z.literal(true).optional(),
});

/** `PARLOR_PLANS`: quotas and grace per plan name. */
export const plansConfig = z.record(
  z.string().min(1),
  z
    .object({
      agentRunsPerPeriod: limit.optional().default(null),
      tokensPerPeriod: limit.optional().default(null),
      graceDays: z.number().min(0).max(365).optional().default(0),
    })
    .strict(),
);
export type PlansConfig = z.infer<typeof plansConfig>;
