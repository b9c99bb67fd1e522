/**
 * Billing against the real Worker, rooms and PostgreSQL, with Stripe's side played by the local stand-in
 * (`test/stripe-stand-in.ts`) and webhook payloads signed by the stripe library's own test helper.
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../api/db/client";
import { orgBilling, usageBatches } from "../../api/db/schema";
import { stripeClient } from "../../billing/stripe-client";
import { countUsage, meterUsage } from "../../billing/usage";
import {
  type ChatFixture,
  chatWithMembers,
  client,
  connect,
  eventually,
  expectStatus,
  type TestSocket,
  unique,
} from "./helpers";
import { deliverStripeEvent, stripeEvent, subscriptionObject } from "./stripe-events";

const cryptoProvider = Stripe.createSubtleCryptoProvider();
const webhookSecret = env.STRIPE_WEBHOOK_SECRET as string;
const standIn = env.STRIPE_API_URL as string;

/** The webhook's answer, signed with the configured secret unless told otherwise. */
const deliver = deliverStripeEvent;

async function billingOf(fixture: ChatFixture) {
  const answer = await client(fixture.admin.token).api.orgs[":orgId"].billing.$get({ param: { orgId: fixture.orgId } });
  return (await (await expectStatus(answer, 200)).json()).billing;
}

/** An agent on the built-in model at full speed, in the fixture's chat. */
async function addAgent(fixture: ChatFixture, handle = "helper", model = "parlor-local:0"): Promise<string> {
  const api = client(fixture.admin.token).api;
  const created = await expectStatus(
    await api.orgs[":orgId"].agents.$post({
      param: { orgId: fixture.orgId },
      json: { name: `Agent ${handle}`, handle, model },
    }),
    201,
  );
  const { id } = await created.json();
  await expectStatus(
    await api.chats[":chatId"].agents.$post({ param: { chatId: fixture.chatId }, json: { agentId: id } }),
    201,
  );
  return id;
}

/** Sends a message to `@helper` and waits until its run has ended, or until the room refused to start it. */
async function ask(socket: TestSocket, text = "@helper hello") {
  const clientMessageId = unique("m");
  const before = { started: socket.of("run.started").length, errors: socket.of("error").length };
  socket.send({ type: "message", text, clientMessageId });
  await socket.until(
    (s) =>
      s.of("error").length > before.errors ||
      (s.of("run.started").length > before.started &&
        s.of("run.finished").length + s.of("run.failed").length >= s.of("run.started").length),
    "the run to end or be refused",
  );
  const refusal = socket.of("error").slice(before.errors)[0];
  return { started: socket.of("run.started").length > before.started, refusal, clientMessageId };
}

// The first webhook of a run wakes a room and loads the stripe library: on a busy machine it takes a while.
describe("the Stripe webhook", { timeout: 60_000 }, () => {
  it("refuses a bad or stale signature with 400 and changes nothing", async () => {
    const fixture = await chatWithMembers(0);
    const event = stripeEvent("customer.subscription.updated", subscriptionObject(fixture.orgId, { status: "unpaid" }));
    expect((await deliver(event, { secret: "whsec_not_the_secret" })).status).toBe(400);
    const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600;
    expect((await deliver(event, { timestamp: tenMinutesAgo })).status).toBe(400);
    // Signed, then changed on the way.
    const payload = JSON.stringify(event);
    const signature = await Stripe.webhooks.generateTestHeaderStringAsync({
      payload,
      secret: webhookSecret,
      cryptoProvider,
    });
    const tampered = await client().api.webhooks.stripe.$post(
      {},
      {
        init: {
          body: payload.replace('"unpaid"', '"active"'),
          headers: { "Content-Type": "application/json", "Stripe-Signature": signature },
        },
      },
    );
    expect(tampered.status).toBe(400);
    expect((await billingOf(fixture)).status).toBe("none");
    // The same event, signed properly, is then applied: the refusals recorded nothing.
    expect((await deliver(event)).body).toEqual({ received: true });
    expect((await billingOf(fixture)).status).toBe("unpaid");
  });

  it("applies each event once however often it is delivered, at once or in turn", async () => {
    const fixture = await chatWithMembers(0);
    const event = stripeEvent("customer.subscription.created", subscriptionObject(fixture.orgId, { status: "active" }));
    const together = await Promise.all([deliver(event), deliver(event), deliver(event)]);
    expect(together.map((d) => d.status)).toEqual([200, 200, 200]);
    expect(together.filter((d) => d.body.duplicate === true)).toHaveLength(2);
    expect((await deliver(event)).body).toEqual({ received: true, duplicate: true });
    expect((await billingOf(fixture)).status).toBe("active");
  });

  it("shuffled events converge on the newest; a tie keeps what is stored", async () => {
    const t = Math.floor(Date.now() / 1000);
    const timeline = [
      ["customer.subscription.created", "active", t - 30],
      ["customer.subscription.updated", "past_due", t - 20],
      ["customer.subscription.updated", "unpaid", t - 10],
      ["customer.subscription.updated", "active", t],
    ] as const;
    for (const order of [
      [3, 0, 2, 1],
      [1, 3, 2, 0],
      [2, 1, 0, 3],
    ]) {
      const fixture = await chatWithMembers(0);
      const customer = `cus_${unique("c")}`;
      for (const i of order) {
        const [type, status, created] = timeline[i];
        await deliver(stripeEvent(type, subscriptionObject(fixture.orgId, { status, customer }), created));
      }
      expect((await billingOf(fixture)).status).toBe("active");
      // Same `created` as the stored one: the stored state stays.
      const tie = stripeEvent(
        "customer.subscription.updated",
        subscriptionObject(fixture.orgId, { status: "canceled" }),
        t,
      );
      expect((await deliver(tie)).body).toEqual({ received: true, ignored: true });
      expect((await billingOf(fixture)).status).toBe("active");
    }
  });

  it("maps Stripe's other statuses, finds the org by customer, and ignores unknown orgs and event types", async () => {
    const fixture = await chatWithMembers(0);
    const customer = `cus_${unique("c")}`;
    const checkout = stripeEvent("checkout.session.completed", {
      id: `cs_${unique("s")}`,
      object: "checkout.session",
      mode: "subscription",
      customer,
      subscription: null,
      metadata: { parlorOrgId: fixture.orgId },
    });
    expect((await deliver(checkout)).body).toEqual({ received: true });
    const t = Math.floor(Date.now() / 1000);
    for (const [i, [stripeStatus, parlor]] of [
      ["incomplete", "past_due"],
      ["paused", "unpaid"],
      ["incomplete_expired", "canceled"],
      ["trialing", "trialing"],
    ].entries()) {
      // No parlorOrgId: found by the customer id stored at checkout.
      const object = { ...subscriptionObject(fixture.orgId, { status: stripeStatus, customer }), metadata: {} };
      expect((await deliver(stripeEvent("customer.subscription.updated", object, t + i))).body).toEqual({
        received: true,
      });
      expect((await billingOf(fixture)).status).toBe(parlor);
    }
    const stranger = subscriptionObject(crypto.randomUUID(), { status: "unpaid" });
    expect((await deliver(stripeEvent("customer.subscription.updated", stranger))).body).toEqual({
      received: true,
      ignored: true,
    });
    expect((await deliver(stripeEvent("invoice.paid", { id: "in_1", object: "invoice" }))).body).toEqual({
      received: true,
      ignored: true,
    });
  });
});

describe("a lapsed org's rooms", () => {
  it("stop starting agent runs at once, say why, and start them again when billing recovers", async () => {
    const fixture = await chatWithMembers(1);
    await addAgent(fixture);
    const slowAgent = await addAgent(fixture, "slow", "parlor-local:100");
    const member = await connect(fixture.chatId, fixture.members[0].token);
    expect((await ask(member)).started).toBe(true);
    // A slow run, stopped by its initiator: something to retry later.
    member.send({ type: "message", text: "@slow clock: 100", clientMessageId: unique("slow") });
    await member.until((s) => s.of("run.started").some((r) => r.agentId === slowAgent), "the slow run");
    const stoppedRun = member.of("run.started").find((r) => r.agentId === slowAgent)?.runId as string;
    member.send({ type: "stop", runId: stoppedRun });
    await member.until((s) => s.of("run.finished").some((f) => f.runId === stoppedRun), "the stop");
    const startedBefore = member.of("run.started").length;

    const customer = `cus_${unique("c")}`;
    const t = Math.floor(Date.now() / 1000);
    await deliver(
      stripeEvent(
        "customer.subscription.updated",
        subscriptionObject(fixture.orgId, { status: "unpaid", customer }),
        t,
      ),
    );
    expect((await billingOf(fixture)).refusing).toBe("billing_lapsed");

    // By socket: the message is stored and seen, the run is refused with an error to the sender and a notice.
    const refused = await ask(member);
    expect(refused.started).toBe(false);
    expect(refused.refusal).toMatchObject({ code: "billing_lapsed", clientMessageId: refused.clientMessageId });
    await member.until(
      (s) => s.of("message").some((m) => m.author.type === "system" && m.text.includes("not started")),
      "the notice",
    );
    const notice = member
      .of("message")
      .filter((m) => m.author.type === "system")
      .at(-1);
    expect(notice?.text).toMatch(/@helper not started: this org's billing has lapsed \(unpaid\)/);

    // By REST: 201 with runsRefused; people keep writing.
    const posted = await client(fixture.members[0].token).api.chats[":chatId"].messages.$post({
      param: { chatId: fixture.chatId },
      json: { text: "@helper are you there?", clientMessageId: unique("rest") },
    });
    const body = await (await expectStatus(posted, 201)).json();
    expect(body.runsRefused).toEqual([expect.objectContaining({ code: "billing_lapsed" })]);
    expect(body.runsRefused?.[0].message).toMatch(/billing has lapsed/);
    const plain = await client(fixture.members[0].token).api.chats[":chatId"].messages.$post({
      param: { chatId: fixture.chatId },
      json: { text: "just talking", clientMessageId: unique("rest") },
    });
    expect((await (await expectStatus(plain, 201)).json()).runsRefused).toBeUndefined();

    // Retrying a stopped run is only paid work: 402, and nothing starts.
    const retry = await client(fixture.admin.token).api.chats[":chatId"].runs[":runId"].retry.$post({
      param: { chatId: fixture.chatId, runId: stoppedRun },
    });
    expect(retry.status).toBe(402);
    expect((await retry.json()) as unknown).toMatchObject({ error: { code: "billing_lapsed" } });
    expect(member.of("run.started")).toHaveLength(startedBefore);

    // Recovered: the next message starts its run, with no restart.
    await deliver(
      stripeEvent(
        "customer.subscription.updated",
        subscriptionObject(fixture.orgId, { status: "active", customer }),
        t + 1,
      ),
    );
    expect((await ask(member)).started).toBe(true);
    member.close();
  });

  it("past due is a lapse only after the plan's grace period", async () => {
    const graceful = await chatWithMembers(0);
    await addAgent(graceful);
    await deliver(
      stripeEvent(
        "customer.subscription.updated",
        subscriptionObject(graceful.orgId, { status: "past_due", plan: "team" }),
      ),
    );
    const billing = await billingOf(graceful);
    expect(billing).toMatchObject({ status: "past_due", plan: "team", refusing: null });
    expect(Date.parse(billing.graceEndsAt ?? "") - Date.now()).toBeGreaterThan(2.9 * 86_400_000);
    const admin = await connect(graceful.chatId, graceful.admin.token);
    expect((await ask(admin)).started).toBe(true);

    const strict = await chatWithMembers(0);
    await addAgent(strict);
    await deliver(
      stripeEvent(
        "customer.subscription.updated",
        subscriptionObject(strict.orgId, { status: "past_due", plan: "tiny" }),
      ),
    );
    expect((await billingOf(strict)).refusing).toBe("billing_lapsed");
    const strictAdmin = await connect(strict.chatId, strict.admin.token);
    expect((await ask(strictAdmin)).refusal).toMatchObject({ code: "billing_lapsed" });
    admin.close();
    strictAdmin.close();
  });
});

describe("quotas and member caps", () => {
  it("a plan's run quota refuses the next run the moment it is spent, in the room that spent it", async () => {
    const fixture = await chatWithMembers(0);
    await addAgent(fixture);
    await deliver(
      stripeEvent(
        "customer.subscription.updated",
        subscriptionObject(fixture.orgId, { status: "active", plan: "tiny" }),
      ),
    );
    const admin = await connect(fixture.chatId, fixture.admin.token);
    expect((await ask(admin)).started).toBe(true);
    expect((await ask(admin)).started).toBe(true);
    const third = await ask(admin);
    expect(third.started).toBe(false);
    expect(third.refusal).toMatchObject({ code: "quota_exceeded" });
    expect(third.refusal?.message).toMatch(/all 2 agent runs/);
    // Usage reaches Postgres in a batch: exactly two runs.
    const billing = await eventually(
      () => billingOf(fixture),
      (b) => b.usage.agentRuns === 2,
      "the usage batch",
    );
    expect(billing.refusing).toBe("quota_exceeded");
    admin.close();
  });

  it("a token quota lets the run that overran it finish and refuses the next", async () => {
    const fixture = await chatWithMembers(0);
    await addAgent(fixture);
    await deliver(
      stripeEvent(
        "customer.subscription.updated",
        subscriptionObject(fixture.orgId, { status: "active", plan: "tokens" }),
      ),
    );
    const admin = await connect(fixture.chatId, fixture.admin.token);
    // One reply of the built-in model spends more than the plan's 30 tokens; it still finishes.
    const first = await ask(admin, "@helper please write a long answer about everything");
    expect(first.started).toBe(true);
    expect(admin.of("run.finished")).toHaveLength(1);
    await eventually(
      () => billingOf(fixture),
      (b) => b.usage.tokensIn + b.usage.tokensOut > 30,
      "the tokens",
    );
    expect((await ask(admin)).refusal).toMatchObject({ code: "quota_exceeded" });
    admin.close();
  });

  it("an admin's cap on one member stops that member's runs only, and clearing it lets them run again", async () => {
    const fixture = await chatWithMembers(1);
    await addAgent(fixture);
    const [member] = fixture.members;
    const limits = client(fixture.admin.token).api.orgs[":orgId"].members[":userId"].limits;
    const param = { orgId: fixture.orgId, userId: member.userId };
    // Members cannot cap anyone; caps need a member of this org.
    expect(
      (
        await client(member.token).api.orgs[":orgId"].members[":userId"].limits.$put({
          param,
          json: { agentRunsPerPeriod: 5 },
        })
      ).status,
    ).toBe(403);
    expect(
      (await limits.$put({ param: { ...param, userId: "nobody-here" }, json: { agentRunsPerPeriod: 1 } })).status,
    ).toBe(404);
    expect((await limits.$put({ param, json: {} })).status).toBe(400);
    expect((await limits.$put({ param, json: { agentRunsPerPeriod: -1 } })).status).toBe(400);

    const set = await limits.$put({ param, json: { agentRunsPerPeriod: 0 } });
    expect((await (await expectStatus(set, 200)).json()).limits).toEqual({
      agentRunsPerPeriod: 0,
      tokensPerPeriod: null,
    });
    const memberSocket = await connect(fixture.chatId, member.token);
    const adminSocket = await connect(fixture.chatId, fixture.admin.token);
    const refused = await ask(memberSocket);
    expect(refused.refusal).toMatchObject({ code: "quota_exceeded" });
    expect(refused.refusal?.message).toMatch(/a cap an org admin set/);
    expect((await ask(adminSocket)).started).toBe(true);
    expect((await billingOf(fixture)).members).toEqual([
      { userId: member.userId, limits: { agentRunsPerPeriod: 0, tokensPerPeriod: null }, usage: expect.any(Object) },
    ]);

    // A field left out keeps its value; null clears it.
    const tokensToo = await limits.$put({ param, json: { tokensPerPeriod: 1000 } });
    expect((await tokensToo.json()).limits).toEqual({ agentRunsPerPeriod: 0, tokensPerPeriod: 1000 });
    await expectStatus(await limits.$put({ param, json: { agentRunsPerPeriod: null, tokensPerPeriod: null } }), 200);
    expect((await billingOf(fixture)).members).toEqual([]);
    expect((await ask(memberSocket)).started).toBe(true);
    memberSocket.close();
    adminSocket.close();
  });
});

describe("usage", () => {
  it("counts messages, runs and tokens per period, each batch once, however often it is sent", async () => {
    const fixture = await chatWithMembers(1);
    await addAgent(fixture);
    const member = await connect(fixture.chatId, fixture.members[0].token);
    await ask(member);
    await ask(member);
    // Two members' messages and two replies; no system notices.
    const billing = await eventually(
      () => billingOf(fixture),
      (b) => b.usage.messages === 4 && b.usage.agentRuns === 2,
      "the usage batch",
    );
    expect(billing.usage.tokensIn).toBeGreaterThan(0);
    expect(billing.usage.tokensOut).toBeGreaterThan(0);
    expect(billing.status).toBe("none");
    expect(billing.plan).toBeNull();
    expect(billing.quotas).toEqual({ agentRunsPerPeriod: null, tokensPerPeriod: null });

    // A batch sent again (its answer lost on the way) counts nothing more.
    const { db, close } = openDatabase(env);
    try {
      const batch = {
        key: `${fixture.chatId}:test-replay`,
        cutAt: Date.now(),
        messages: 3,
        members: [{ userId: fixture.members[0].userId, agentRuns: 1, tokensIn: 10, tokensOut: 20 }],
      };
      expect(await countUsage(db, fixture.orgId, batch)).toBe("counted");
      expect(await countUsage(db, fixture.orgId, batch)).toBe("already");
      expect(await countUsage(db, crypto.randomUUID(), { ...batch, key: "gone" })).toBe("org_gone");
    } finally {
      await close();
    }
    const after = await billingOf(fixture);
    expect(after.usage).toEqual({
      messages: billing.usage.messages + 3,
      agentRuns: 3,
      tokensIn: billing.usage.tokensIn + 10,
      tokensOut: billing.usage.tokensOut + 20,
    });
    member.close();
  });

  it("reports meter events to Stripe once per batch, through failures and repeats", async () => {
    const fixture = await chatWithMembers(0);
    const customer = `cus_${unique("c")}`;
    await deliver(
      stripeEvent("customer.subscription.created", subscriptionObject(fixture.orgId, { status: "active", customer })),
    );
    const { db, close } = openDatabase(env);
    try {
      const batch = {
        key: `${fixture.chatId}:u0-1:m0-2`,
        cutAt: Date.now(),
        messages: 2,
        members: [{ userId: fixture.admin.userId, agentRuns: 1, tokensIn: 7, tokensOut: 9 }],
      };
      await countUsage(db, fixture.orgId, batch);
      await meterUsage(env, db, batch);
      // The answer was lost before the batch was marked metered: it is sent again, and Stripe counts it once.
      await db.update(usageBatches).set({ meteredAt: null }).where(eq(usageBatches.key, batch.key));
      await meterUsage(env, db, batch);
      await meterUsage(env, db, batch);
    } finally {
      await close();
    }
    const events = (await (await fetch(`${standIn}/__meter_events?customer=${customer}`)).json()) as {
      event_name: string;
      payload: { value: string };
    }[];
    const byName = Object.fromEntries(events.map((e) => [e.event_name, Number(e.payload.value)]));
    expect(byName).toEqual({ parlor_messages: 2, parlor_agent_runs: 1, parlor_tokens_in: 7, parlor_tokens_out: 9 });
    expect(events).toHaveLength(4);
  });
});

describe("seats, checkout and portal", () => {
  it("the subscription's quantity follows the member count", async () => {
    const fixture = await chatWithMembers(1);
    const stripe = stripeClient(env) as Stripe;
    const customer = await stripe.customers.create({ metadata: { parlorOrgId: fixture.orgId } });
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_seat", quantity: 1 }],
      metadata: { parlorOrgId: fixture.orgId },
    });
    const itemId = subscription.items.data[0].id;
    await deliver(stripeEvent("customer.subscription.created", subscription));
    const quantity = async () => (await stripe.subscriptionItems.retrieve(itemId)).quantity;
    // Applying the subscription sends the count it should have: the admin and one member.
    expect(await quantity()).toBe(2);
    const api = client(fixture.admin.token).api.orgs[":orgId"].members;
    const newcomer = unique("newcomer");
    await expectStatus(
      await api.$post({ param: { orgId: fixture.orgId }, json: { userId: newcomer, role: "member" } }),
      201,
    );
    expect(await quantity()).toBe(3);
    // A role change is not a seat.
    await expectStatus(
      await api.$post({ param: { orgId: fixture.orgId }, json: { userId: newcomer, role: "admin" } }),
      201,
    );
    expect(await quantity()).toBe(3);
    await expectStatus(
      await api.$delete({ param: { orgId: fixture.orgId }, json: { userId: fixture.members[0].userId } }),
      200,
    );
    expect(await quantity()).toBe(2);
    expect((await billingOf(fixture)).seats).toBe(2);
  });

  it("checkout and portal sessions for admins, returning to PARLOR_APP_URL", async () => {
    const fixture = await chatWithMembers(1);
    const billing = client(fixture.admin.token).api.orgs[":orgId"].billing;
    const param = { orgId: fixture.orgId };
    expect((await client(fixture.members[0].token).api.orgs[":orgId"].billing.checkout.$post({ param })).status).toBe(
      403,
    );
    expect((await client(fixture.members[0].token).api.orgs[":orgId"].billing.$get({ param })).status).toBe(403);
    // Not a customer yet: no portal.
    expect((await billing.portal.$post({ param })).status).toBe(409);
    const checkout = await (await expectStatus(await billing.checkout.$post({ param }), 200)).json();
    expect(checkout.url).toMatch(new RegExp(`^${standIn}/`));
    const requests = (await (await fetch(`${standIn}/__requests`)).json()) as {
      path: string;
      params: Record<string, unknown>;
    }[];
    const session = requests.filter((r) => r.path === "/v1/checkout/sessions").at(-1);
    expect(session?.params).toMatchObject({
      mode: "subscription",
      success_url: "http://app.parlor.test/?billing=done",
      metadata: { parlorOrgId: fixture.orgId },
      line_items: [{ price: "price_seat", quantity: "2" }],
    });
    const { db, close } = openDatabase(env);
    try {
      const [stored] = await db.select().from(orgBilling).where(eq(orgBilling.orgId, fixture.orgId));
      expect(stored.stripeCustomerId).toBe(session?.params.customer);
    } finally {
      await close();
    }
    // A second checkout reuses the customer.
    await expectStatus(await billing.checkout.$post({ param }), 200);
    const customers = ((await (await fetch(`${standIn}/__requests`)).json()) as typeof requests).filter(
      (r) =>
        r.path === "/v1/customers" && (r.params.metadata as { parlorOrgId?: string })?.parlorOrgId === fixture.orgId,
    );
    expect(customers).toHaveLength(1);
    const portal = await (await expectStatus(await billing.portal.$post({ param }), 200)).json();
    expect(portal.url).toMatch(new RegExp(`^${standIn}/`));
  });
});
