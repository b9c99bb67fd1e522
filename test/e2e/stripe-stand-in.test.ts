/**
 * The Stripe stand-in speaks Stripe's wire format: the real `stripe` library, pointed at it, creates customers,
 * checkout and portal sessions, subscriptions, updates seat quantities (replaying an idempotent retry), and sends
 * meter events whose identifiers are enforced, all without leaving the machine.
 */
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decodeForm,
  type MeterEventRecord,
  type StripeRequestRecord,
  type StripeStandIn,
  startStripeStandIn,
} from "../stripe-stand-in.ts";

let standIn: StripeStandIn;
let stripe: Stripe;

beforeAll(async () => {
  standIn = await startStripeStandIn();
  const port = Number(new URL(standIn.url).port);
  stripe = new Stripe(standIn.secretKey, { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 0 });
});
afterAll(() => standIn?.close());

const requests = async () => (await (await fetch(`${standIn.url}/__requests`)).json()) as StripeRequestRecord[];
const meterEvents = async (customer: string) =>
  (await (await fetch(`${standIn.url}/__meter_events?customer=${customer}`)).json()) as MeterEventRecord[];

describe("the Stripe stand-in", () => {
  it("decodes Stripe's bracket notation into nested objects and arrays", () => {
    expect(
      decodeForm("metadata[parlorOrgId]=org_1&line_items[0][price]=p&line_items[0][quantity]=3&expand[]=a&expand[]=b"),
    ).toEqual({ metadata: { parlorOrgId: "org_1" }, line_items: [{ price: "p", quantity: "3" }], expand: ["a", "b"] });
  });

  it("serves the real stripe library: customer, checkout, portal, subscription, seats, meter events", async () => {
    const customer = await stripe.customers.create({
      email: "owner@example.com",
      name: "Acme",
      metadata: { parlorOrgId: "org_1" },
    });
    expect(customer.id).toMatch(/^cus_/);
    expect(customer.metadata).toEqual({ parlorOrgId: "org_1" });
    expect((await stripe.customers.retrieve(customer.id)).id).toBe(customer.id);

    const checkout = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      success_url: "http://app.parlor.test/billing?ok=1",
      line_items: [{ price: "price_seat", quantity: 3 }],
      metadata: { parlorOrgId: "org_1" },
    });
    expect(checkout).toMatchObject({
      object: "checkout.session",
      customer: customer.id,
      mode: "subscription",
      status: "open",
      subscription: null,
      metadata: { parlorOrgId: "org_1" },
    });
    expect(checkout.id).toMatch(/^cs_test_/);
    expect(checkout.url).toBe(`${standIn.url}/pay/${checkout.id}`);
    const sent = (await requests()).find((r) => r.path === "/v1/checkout/sessions");
    expect(sent?.params.line_items).toEqual([{ price: "price_seat", quantity: "3" }]);

    const portal = await stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: "http://app.parlor.test/billing",
    });
    expect(portal).toMatchObject({ object: "billing_portal.session", customer: customer.id });
    expect(portal.id).toMatch(/^bps_/);
    const noPortal = await stripe.billingPortal.sessions.create({ customer: "cus_nobody" }).catch((e) => e);
    expect(noPortal).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(noPortal).toMatchObject({ statusCode: 400, code: "resource_missing" });

    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_seat", quantity: 3 }],
      metadata: { parlorOrgId: "org_1", plan: "team" },
    });
    expect(subscription).toMatchObject({
      object: "subscription",
      status: "active",
      customer: customer.id,
      metadata: { parlorOrgId: "org_1", plan: "team" },
    });
    const [item] = subscription.items.data;
    expect(item).toMatchObject({ object: "subscription_item", quantity: 3, price: { id: "price_seat" } });
    expect(item.current_period_end - item.current_period_start).toBeGreaterThanOrEqual(28 * 86_400);
    expect((await stripe.subscriptions.retrieve(subscription.id)).items.data[0].id).toBe(item.id);

    const updated = await stripe.subscriptionItems.update(item.id, { quantity: 5 }, { idempotencyKey: "seats-5" });
    expect(updated.quantity).toBe(5);
    const replay = await stripe.subscriptionItems.update(item.id, { quantity: 5 }, { idempotencyKey: "seats-5" });
    expect(replay).toEqual(updated);
    const seatRequests = (await requests()).filter((r) => r.idempotencyKey === "seats-5");
    expect(seatRequests.map((r) => [r.replayed, r.status, r.params])).toEqual([
      [false, 200, { quantity: "5" }],
      [true, 200, { quantity: "5" }],
    ]);
    const reused = await stripe.subscriptionItems
      .update(item.id, { quantity: 6 }, { idempotencyKey: "seats-5" })
      .catch((e) => e);
    expect(reused).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect((await stripe.subscriptionItems.retrieve(item.id)).quantity).toBe(5);
    const unknown = await stripe.subscriptionItems.update("si_nothing", { quantity: 1 }).catch((e) => e);
    expect(unknown).toMatchObject({ statusCode: 404, code: "resource_missing" });

    const event = { event_name: "parlor_tokens", payload: { stripe_customer_id: customer.id, value: "1200" } };
    const accepted = await stripe.billing.meterEvents.create({ ...event, identifier: "usage-1" });
    expect(accepted).toMatchObject({ object: "billing.meter_event", identifier: "usage-1", payload: event.payload });
    const again = await stripe.billing.meterEvents
      .create({ ...event, payload: { ...event.payload, value: "7" }, identifier: "usage-1" })
      .catch((e) => e);
    expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(again).toMatchObject({ statusCode: 400, code: "resource_already_exists" });
    expect((await meterEvents(customer.id)).map((e) => e.payload.value)).toEqual(["1200"]);
  });

  it("refuses a wrong key, and fails on request for retry tests without changing anything", async () => {
    const port = Number(new URL(standIn.url).port);
    const stranger = new Stripe("sk_test_wrong", { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 0 });
    const refused = await stranger.customers.create({}).catch((e) => e);
    expect(refused).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);

    const before = (await requests()).length;
    await fetch(`${standIn.url}/__fail`, {
      method: "POST",
      body: JSON.stringify({ path: "/v1/customers", times: 1, status: 503 }),
    });
    const failed = await stripe.customers.create({ name: "Flaky" }, { idempotencyKey: "flaky" }).catch((e) => e);
    expect(failed).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(failed).toMatchObject({ statusCode: 503 });
    const retried = await stripe.customers.create({ name: "Flaky" }, { idempotencyKey: "flaky" });
    expect(retried.name).toBe("Flaky");
    const after = (await requests()).slice(before);
    expect(after.map((r) => [r.status, r.replayed])).toEqual([
      [503, false],
      [200, false],
    ]);
  });
});
