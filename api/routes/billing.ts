/**
 * An org's billing (org admins): its state and usage against quota, Stripe's checkout and portal, and caps per
 * member. Changes that affect whether runs may start are pushed to the org's rooms at once.
 */

import { and, eq } from "drizzle-orm";
import type Stripe from "stripe";
import { pushBilling } from "../../billing/push";
import { memberCount } from "../../billing/seats";
import { readBilling } from "../../billing/state";
import { stripeClient } from "../../billing/stripe-client";
import {
  billingResponse,
  memberLimitsBody,
  memberLimitsResponse,
  memberParams,
  sessionUrlResponse,
} from "../../protocol/billing";
import { orgIdParams } from "../../protocol/orgs";
import { requireOrgAdmin } from "../access";
import type { Database } from "../db/client";
import { memberLimits, orgBilling, orgMemberships, orgs } from "../db/schema";
import { conflict, notFound, unavailable } from "../errors";
import { errorFields, log } from "../log";
import { authedRoute, jsonBody, jsonContent, router } from "../openapi";

const tags = ["billing"];

const getBillingRoute = authedRoute(
  {
    method: "get",
    path: "/{orgId}/billing",
    tags,
    summary: "The org's billing status, usage this period against its quotas, and capped members (org admins)",
    request: { params: orgIdParams },
    responses: { 200: jsonContent(billingResponse, "As stored; usage trails live use by up to one batch.") },
  },
  ["forbidden", "not_found"],
);
const checkoutRoute = authedRoute(
  {
    method: "post",
    path: "/{orgId}/billing/checkout",
    tags,
    summary: "A Stripe Checkout session subscribing the org, a seat per member (org admins)",
    description: "Returns to `PARLOR_APP_URL`. 503 when Stripe is not configured here; 409 when already subscribed.",
    request: { params: orgIdParams },
    responses: { 200: jsonContent(sessionUrlResponse, "Where to send the admin.") },
  },
  ["forbidden", "not_found", "conflict", "unavailable"],
);
const portalRoute = authedRoute(
  {
    method: "post",
    path: "/{orgId}/billing/portal",
    tags,
    summary: "A Stripe billing portal session for the org (org admins)",
    description: "409 when the org is not a Stripe customer yet (start with checkout).",
    request: { params: orgIdParams },
    responses: { 200: jsonContent(sessionUrlResponse, "Where to send the admin.") },
  },
  ["forbidden", "not_found", "conflict", "unavailable"],
);
const setLimitsRoute = authedRoute(
  {
    method: "put",
    path: "/{orgId}/members/{userId}/limits",
    tags,
    summary: "Cap what one member's messages may spend per billing period (org admins)",
    description: "A field left out keeps its value; null clears it. Rooms refuse the member's next run at the cap.",
    request: { params: memberParams, body: jsonBody(memberLimitsBody) },
    responses: { 200: jsonContent(memberLimitsResponse, "The member's caps now.") },
  },
  ["forbidden", "not_found"],
);

export const billingRoutes = router()
  .openapi(getBillingRoute, async function getBilling(c) {
    const { orgId } = await requireOrgAdmin(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    const { billing } = await readBilling(c.var.db, c.env, orgId);
    return c.json({ billing }, 200);
  })
  .openapi(checkoutRoute, async function startCheckout(c) {
    const { orgId } = await requireOrgAdmin(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    const { stripe, appUrl } = stripeSetup(c.env);
    const price = c.env.STRIPE_PRICE_ID;
    if (!price) throw unavailable("billing is not configured here (no STRIPE_PRICE_ID)");
    const [stored] = await c.var.db.select().from(orgBilling).where(eq(orgBilling.orgId, orgId));
    if (stored && (stored.status === "active" || stored.status === "trialing" || stored.status === "past_due")) {
      throw conflict("this org already has a subscription: manage it in the billing portal");
    }
    const customer = stored?.stripeCustomerId ?? (await createCustomer(c.var.db, stripe, orgId));
    const seats = Math.max(1, await memberCount(c.var.db, orgId));
    const session = await callStripe(() =>
      stripe.checkout.sessions.create({
        mode: "subscription",
        customer,
        line_items: [{ price, quantity: seats }],
        success_url: new URL("/?billing=done", appUrl).href,
        cancel_url: new URL("/?billing=cancelled", appUrl).href,
        metadata: { parlorOrgId: orgId },
        subscription_data: { metadata: { parlorOrgId: orgId } },
      }),
    );
    if (!session.url) throw unavailable("Stripe returned no checkout URL");
    // The session lives in Stripe: its entry has a transaction of its own.
    await c.var.db.transaction((tx) =>
      c.var.audit.record(tx, {
        orgId,
        actor: { type: "user", id: c.var.caller.userId },
        action: "billing.checkout_started",
        target: `billing:checkout seats=${seats}`,
      }),
    );
    return c.json({ url: session.url }, 200);
  })
  .openapi(portalRoute, async function openPortal(c) {
    const { orgId } = await requireOrgAdmin(c.var.db, c.req.valid("param").orgId, c.var.caller.userId);
    const { stripe, appUrl } = stripeSetup(c.env);
    const [stored] = await c.var.db
      .select({ customer: orgBilling.stripeCustomerId })
      .from(orgBilling)
      .where(eq(orgBilling.orgId, orgId));
    if (!stored?.customer) throw conflict("this org is not a Stripe customer yet: start with checkout");
    const customer = stored.customer;
    const session = await callStripe(() =>
      stripe.billingPortal.sessions.create({ customer, return_url: new URL("/", appUrl).href }),
    );
    return c.json({ url: session.url }, 200);
  })
  .openapi(setLimitsRoute, async function setMemberLimits(c) {
    const params = c.req.valid("param");
    const { orgId } = await requireOrgAdmin(c.var.db, params.orgId, c.var.caller.userId);
    const change = c.req.valid("json");
    const limits = await c.var.db.transaction(async (tx) => {
      const [member] = await tx
        .select({ userId: orgMemberships.userId })
        .from(orgMemberships)
        .where(and(eq(orgMemberships.orgId, orgId), eq(orgMemberships.userId, params.userId)));
      if (!member) throw notFound("no such member of this org");
      const [stored] = await tx
        .select()
        .from(memberLimits)
        .where(and(eq(memberLimits.orgId, orgId), eq(memberLimits.userId, params.userId)))
        .for("update");
      const next = {
        agentRunsPerPeriod:
          change.agentRunsPerPeriod === undefined ? (stored?.agentRunsPerPeriod ?? null) : change.agentRunsPerPeriod,
        tokensPerPeriod:
          change.tokensPerPeriod === undefined ? (stored?.tokensPerPeriod ?? null) : change.tokensPerPeriod,
      };
      const before = {
        agentRunsPerPeriod: stored?.agentRunsPerPeriod ?? null,
        tokensPerPeriod: stored?.tokensPerPeriod ?? null,
      };
      if (before.agentRunsPerPeriod === next.agentRunsPerPeriod && before.tokensPerPeriod === next.tokensPerPeriod) {
        return next; // nothing changes, and nothing is written
      }
      await c.var.audit.record(tx, {
        orgId,
        actor: { type: "user", id: c.var.caller.userId },
        action: "member.limits_changed",
        target: `user:${params.userId} agentRunsPerPeriod=${next.agentRunsPerPeriod ?? "none"} tokensPerPeriod=${next.tokensPerPeriod ?? "none"}`,
      });
      if (next.agentRunsPerPeriod === null && next.tokensPerPeriod === null) {
        await tx.delete(memberLimits).where(and(eq(memberLimits.orgId, orgId), eq(memberLimits.userId, params.userId)));
      } else {
        await tx
          .insert(memberLimits)
          .values({ orgId, userId: params.userId, ...next })
          .onConflictDoUpdate({
            target: [memberLimits.orgId, memberLimits.userId],
            set: { ...next, updatedAt: new Date() },
          });
      }
      return next;
    });
    await pushBilling(c.env, c.var.db, orgId);
    return c.json({ limits }, 200);
  });

function stripeSetup(env: Env): { stripe: Stripe; appUrl: string } {
  const stripe = stripeClient(env);
  if (!stripe) throw unavailable("billing is not configured here (no STRIPE_SECRET_KEY)");
  if (!env.PARLOR_APP_URL) throw unavailable("billing is not configured here (no PARLOR_APP_URL)");
  return { stripe, appUrl: env.PARLOR_APP_URL };
}

/** One customer per org, however many admins start a checkout at once: the idempotency key is the org's. */
async function createCustomer(db: Database, stripe: Stripe, orgId: string): Promise<string> {
  const [org] = await db.select({ name: orgs.name }).from(orgs).where(eq(orgs.id, orgId));
  const created = await callStripe(() =>
    stripe.customers.create(
      { name: org?.name, metadata: { parlorOrgId: orgId } },
      { idempotencyKey: `parlor-customer-${orgId}` },
    ),
  );
  await db
    .insert(orgBilling)
    .values({ orgId, stripeCustomerId: created.id })
    .onConflictDoUpdate({ target: orgBilling.orgId, set: { stripeCustomerId: created.id } });
  return created.id;
}

async function callStripe<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    log("error", "stripe_call_failed", errorFields(error));
    throw unavailable("Stripe could not be reached or refused the request; try again");
  }
}
