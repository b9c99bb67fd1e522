/**
 * `npm run stripe:event -- --org ORG_ID --status unpaid [--plan NAME] [--url http://localhost:8787]`: sends the running
 * Parlor a `customer.subscription.updated` event for the org, signed as Stripe signs it (the stripe library's own
 * test helper) with the development webhook secret `npm start` keeps in `.data/` (or `STRIPE_WEBHOOK_SECRET`). For
 * trying billing offline: lapse an org's billing, watch its rooms refuse agent runs, then send `--status active`.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import Stripe from "stripe";
import { parlorClient } from "../api/client.ts";

const { values } = parseArgs({
  options: {
    org: { type: "string" },
    status: { type: "string", default: "active" },
    plan: { type: "string" },
    url: { type: "string", default: `http://localhost:${process.env.PORT ?? 8787}` },
  },
});
if (!values.org) {
  console.error(
    "usage: npm run stripe:event -- --org ORG_ID --status active|trialing|past_due|unpaid|canceled [--plan NAME]",
  );
  process.exit(2);
}
const dataDir = resolve(process.env.PARLOR_DATA_DIR ?? resolve(import.meta.dirname, "..", ".data"));
const secret =
  process.env.STRIPE_WEBHOOK_SECRET ?? readFileSync(resolve(dataDir, "stripe-webhook-secret"), "utf8").trim();

const now = Math.floor(Date.now() / 1000);
const event = {
  id: `evt_local_${randomUUID()}`,
  object: "event",
  api_version: "2026-10-28.endive",
  created: now,
  livemode: false,
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
  type: "customer.subscription.updated",
  data: {
    object: {
      id: `sub_local_${values.org}`,
      object: "subscription",
      status: values.status,
      customer: `cus_local_${values.org}`,
      metadata: { parlorOrgId: values.org, ...(values.plan ? { parlorPlan: values.plan } : {}) },
      items: {
        object: "list",
        data: [
          {
            id: `si_local_${values.org}`,
            object: "subscription_item",
            quantity: 1,
            price: { id: "price_local", object: "price", lookup_key: null },
            current_period_start: now,
            current_period_end: now + 30 * 86_400,
          },
        ],
      },
    },
  },
};
const payload = JSON.stringify(event);
const signature = await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret });
const answer = await parlorClient(values.url).api.webhooks.stripe.$post(
  {},
  { init: { body: payload, headers: { "Content-Type": "application/json", "Stripe-Signature": signature } } },
);
console.log(`${answer.status} ${await answer.text()}`);
process.exit(answer.ok ? 0 : 1);
