/**
 * Stripe's billing events, applied to `org_billing`. The org is found by `metadata.parlorOrgId`, else by the
 * customer id stored at checkout. Subscription events carry the whole subscription, so each one replaces the state:
 * the newest `event.created` wins and a tie keeps what is stored, which makes redelivered and shuffled events
 * converge on the newest state.
 */
import { and, eq, isNull } from "drizzle-orm";
import type Stripe from "stripe";
import { type AuditInput, appendAudit } from "../api/audit/append";
import type { Database } from "../api/db/client";
import { orgBilling, orgs } from "../api/db/schema";
import type { Tx } from "../api/memberships";
import type { BillingStatus } from "../protocol/billing";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const SUBSCRIPTION_EVENTS = new Set([
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "customer.subscription.paused",
  "customer.subscription.resumed",
]);

/** Stripe's statuses onto Parlor's: those outside Parlor's set as the brief maps them. */
export function parlorStatus(status: string): BillingStatus {
  switch (status) {
    case "active":
    case "trialing":
    case "past_due":
    case "unpaid":
    case "canceled":
      return status;
    case "incomplete":
      return "past_due";
    case "incomplete_expired":
      return "canceled";
    case "paused":
      return "unpaid";
    default:
      // A status Stripe adds later: refuse paid work rather than give it away.
      return "unpaid";
  }
}

export type Applied = { orgId: string } | { ignored: string };

/** Where a status change's audit entry goes: the request's trail (`c.var.audit.record`), else straight in. */
export type RecordAudit = (tx: Tx, input: Omit<AuditInput, "requestId">) => Promise<unknown>;

export async function applyStripeEvent(
  tx: Tx,
  event: Stripe.Event,
  record: RecordAudit = appendAudit,
): Promise<Applied> {
  if (event.type === "checkout.session.completed") return applyCheckout(tx, event.data.object);
  if (SUBSCRIPTION_EVENTS.has(event.type)) {
    return applySubscription(tx, event, record);
  }
  return { ignored: `Parlor does not handle ${event.type}` };
}

async function applyCheckout(tx: Tx, session: Stripe.Checkout.Session): Promise<Applied> {
  const orgId = await existingOrg(tx, session.metadata?.parlorOrgId);
  const customer = idOf(session.customer);
  if (!orgId) return { ignored: "no org with that parlorOrgId" };
  if (!customer) return { ignored: "the session has no customer" };
  const [owner] = await tx
    .select({ orgId: orgBilling.orgId })
    .from(orgBilling)
    .where(eq(orgBilling.stripeCustomerId, customer));
  if (owner && owner.orgId !== orgId) return { ignored: "that customer belongs to another org" };
  const subscription = idOf(session.subscription);
  await tx
    .insert(orgBilling)
    .values({ orgId, stripeCustomerId: customer, stripeSubscriptionId: subscription })
    .onConflictDoUpdate({
      target: orgBilling.orgId,
      set: { stripeCustomerId: customer, updatedAt: new Date() },
    });
  // The subscription id comes with the subscription's own events too; here it only fills a gap.
  if (subscription) {
    await tx
      .update(orgBilling)
      .set({ stripeSubscriptionId: subscription })
      .where(and(eq(orgBilling.orgId, orgId), isNull(orgBilling.stripeSubscriptionId)));
  }
  return { orgId };
}

/** The org an event is about: by `metadata.parlorOrgId`, else (subscriptions) by the customer stored at checkout. */
export async function orgOfEvent(tx: Tx | Database, event: Stripe.Event): Promise<string | undefined> {
  if (event.type === "checkout.session.completed") return existingOrg(tx, event.data.object.metadata?.parlorOrgId);
  if (!SUBSCRIPTION_EVENTS.has(event.type)) return undefined;
  const subscription = event.data.object as Stripe.Subscription;
  const customer = idOf(subscription.customer);
  return (
    (await existingOrg(tx, subscription.metadata?.parlorOrgId)) ??
    (customer
      ? (
          await tx.select({ orgId: orgBilling.orgId }).from(orgBilling).where(eq(orgBilling.stripeCustomerId, customer))
        )[0]?.orgId
      : undefined)
  );
}

async function applySubscription(tx: Tx, event: Stripe.Event, record: RecordAudit): Promise<Applied> {
  const subscription = event.data.object as Stripe.Subscription;
  const { created } = event;
  const customer = idOf(subscription.customer);
  const orgId = await orgOfEvent(tx, event);
  if (!orgId) return { ignored: "no org for this subscription" };
  // Taken FOR UPDATE: two deliveries for one org apply one after the other, each comparing with the other's result.
  const [stored] = await tx.select().from(orgBilling).where(eq(orgBilling.orgId, orgId)).for("update");
  if (stored?.stripeVersion != null && stored.stripeVersion >= created) {
    return { ignored: "an event as new or newer was applied already" };
  }
  const status = parlorStatus(subscription.status);
  const item = subscription.items?.data?.[0];
  const legacy = subscription as unknown as { current_period_start?: number; current_period_end?: number };
  const periodStart = item?.current_period_start ?? legacy.current_period_start;
  const periodEnd = item?.current_period_end ?? legacy.current_period_end;
  const state = {
    status,
    stripeSubscriptionId: subscription.id,
    stripeSubscriptionItemId: item?.id ?? null,
    plan: subscription.metadata?.parlorPlan || item?.price?.lookup_key || null,
    periodStart: periodStart ? new Date(periodStart * 1000) : null,
    periodEnd: periodEnd ? new Date(periodEnd * 1000) : null,
    // Grace runs from when it first became past due, not from each reminder.
    pastDueSince:
      status !== "past_due"
        ? null
        : stored?.status === "past_due" && stored.pastDueSince
          ? stored.pastDueSince
          : new Date(created * 1000),
    stripeVersion: created,
    updatedAt: new Date(),
  };
  // A customer id is only filled in, never moved to another org's.
  const customerFree =
    customer &&
    !(
      await tx.select({ orgId: orgBilling.orgId }).from(orgBilling).where(eq(orgBilling.stripeCustomerId, customer))
    ).some((row) => row.orgId !== orgId);
  const withCustomer = customerFree && !stored?.stripeCustomerId ? { stripeCustomerId: customer } : {};
  await tx
    .insert(orgBilling)
    .values({ orgId, ...state, ...withCustomer })
    .onConflictDoUpdate({ target: orgBilling.orgId, set: { ...state, ...withCustomer } });
  const before = stored?.status ?? "none";
  if (before !== status) {
    // In the transaction that stores the status: the entry and the change commit together.
    await record(tx, {
      orgId,
      actor: { type: "system", id: "stripe" },
      action: "billing.status_changed",
      target: `billing:${before}->${status}`,
    });
  }
  return { orgId };
}

async function existingOrg(tx: Tx | Database, orgId: string | undefined): Promise<string | undefined> {
  if (!orgId || !UUID.test(orgId)) return undefined;
  const [org] = await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, orgId));
  return org?.id;
}

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === "string" ? value : value.id;
}
