/** Stripe webhook events as Stripe sends them, signed with the stripe library's own test helper. */
import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { client, unique } from "./helpers";

const cryptoProvider = Stripe.createSubtleCryptoProvider();

export type SubscriptionFields = {
  status: string;
  plan?: string;
  customer?: string;
  id?: string;
  itemId?: string;
  /** The current period is counted from here (epoch seconds; default now). */
  periodFrom?: number;
};

export function subscriptionObject(orgId: string, fields: SubscriptionFields) {
  const from = fields.periodFrom ?? Math.floor(Date.now() / 1000);
  return {
    id: fields.id ?? `sub_${unique("s")}`,
    object: "subscription",
    status: fields.status,
    customer: fields.customer ?? `cus_${unique("c")}`,
    metadata: { parlorOrgId: orgId, ...(fields.plan ? { parlorPlan: fields.plan } : {}) },
    items: {
      object: "list",
      data: [
        {
          id: fields.itemId ?? `si_${unique("i")}`,
          object: "subscription_item",
          quantity: 1,
          price: { id: "price_seat", object: "price", lookup_key: null },
          current_period_start: from - 86_400,
          current_period_end: from + 29 * 86_400,
        },
      ],
    },
  };
}

export function stripeEvent(type: string, object: object, created = Math.floor(Date.now() / 1000)) {
  return {
    id: `evt_${unique("e")}`,
    object: "event",
    api_version: "2026-10-28.endive",
    created,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

/** Posts `event` to the Stripe webhook, signed (with the configured secret unless told otherwise). */
export async function deliverStripeEvent(
  event: object,
  options: { secret?: string; timestamp?: number } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const payload = JSON.stringify(event);
  const signature = await Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: options.secret ?? (env.STRIPE_WEBHOOK_SECRET as string),
    timestamp: options.timestamp,
    cryptoProvider,
  });
  const response = await client().api.webhooks.stripe.$post(
    {},
    { init: { body: payload, headers: { "Content-Type": "application/json", "Stripe-Signature": signature } } },
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
