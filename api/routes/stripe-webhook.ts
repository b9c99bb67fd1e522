/**
 * `POST /api/webhooks/stripe`: Stripe's billing events, verified against `Stripe-Signature` before they are read,
 * applied once per event id in the transaction that records the id (`billing/stripe-events.ts`), then pushed to the
 * org's rooms. A redelivery pushes again, so a room that could not be told the first time learns it now.
 */
import Stripe from "stripe";
import { pushBilling } from "../../billing/push";
import { syncSeats } from "../../billing/seats";
import { applyStripeEvent, orgOfEvent } from "../../billing/stripe-events";
import { stripeWebhookResponse } from "../../protocol/billing";
import { processedWebhooks } from "../db/schema";
import { badRequest, notFound } from "../errors";
import { database } from "../middleware/database";
import { jsonContent, publicRoute, router } from "../openapi";

const stripeWebhookRoute = publicRoute(
  {
    method: "post",
    path: "/stripe",
    tags: ["webhooks"],
    summary: "Stripe's webhook (exists when STRIPE_WEBHOOK_SECRET is set)",
    description:
      "Verified against `Stripe-Signature` (five minutes' tolerance). Handles `checkout.session.completed` and " +
      "`customer.subscription.created|updated|deleted|paused|resumed`; anything else, or an event for an org " +
      "Parlor does not know, answers `ignored: true`. Each event id is applied once; the newest `created` wins.",
    middleware: [database] as const,
    responses: { 200: jsonContent(stripeWebhookResponse, "Applied, ignored, or a redelivery.") },
  },
  ["bad_request", "not_found"],
);

const cryptoProvider = Stripe.createSubtleCryptoProvider();

export const stripeWebhookRoutes = router().openapi(stripeWebhookRoute, async function receiveStripeWebhook(c) {
  const secret = c.env.STRIPE_WEBHOOK_SECRET;
  if (!secret) throw notFound("no such endpoint");
  let event: Stripe.Event;
  try {
    // The body was already read (strictly) by strictBody; verification gets the same text back.
    event = await Stripe.webhooks.constructEventAsync(
      await c.req.text(),
      c.req.header("stripe-signature") ?? "",
      secret,
      undefined,
      cryptoProvider,
    );
  } catch {
    throw badRequest("webhook signature is not valid, or too old");
  }
  const outcome = await c.var.db.transaction(async (tx) => {
    const [fresh] = await tx
      .insert(processedWebhooks)
      .values({ id: `stripe:${event.id}`, source: "stripe", type: event.type })
      .onConflictDoNothing()
      .returning({ id: processedWebhooks.id });
    if (!fresh) return { duplicate: true as const };
    return applyStripeEvent(tx, event, c.var.audit.record);
  });
  const orgId = "orgId" in outcome ? outcome.orgId : "duplicate" in outcome ? await orgOfEvent(c.var.db, event) : null;
  if (orgId) {
    await syncSeats(c.env, c.var.db, orgId);
    const { failed } = await pushBilling(c.env, c.var.db, orgId);
    // Stripe delivers again; the redelivery pushes again.
    if (failed > 0) throw new Error(`${failed} rooms could not be told the org's billing yet`);
  }
  if ("duplicate" in outcome) return c.json({ received: true as const, duplicate: true as const }, 200);
  if ("ignored" in outcome) return c.json({ received: true as const, ignored: true as const }, 200);
  return c.json({ received: true as const }, 200);
});
