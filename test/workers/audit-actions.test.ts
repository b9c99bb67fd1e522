/**
 * Every security event the App API, the Clerk and Stripe webhooks and the agents' secret lookups write to an org's
 * audit log: each is caused here the way it happens for real, and its newest entry is read back through
 * GET /api/orgs/:orgId/audit?action=… (actor, target, outcome, request id). Repeats that change nothing, and refused
 * requests, write nothing. No secret value appears in any listing; every chain still verifies at the end.
 */
import { env } from "cloudflare:workers";
import { and, desc, eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../api/db/client";
import { auditEntries } from "../../api/db/schema";
import { AUDIT_ACTIONS, type AuditAction, type AuditEntry } from "../../protocol/audit";
import { api, type ChatFixture, call, chatWithMembers, connect, type TestSocket, tokenFor, unique } from "./helpers";
import { deliverStripeEvent, stripeEvent, subscriptionObject } from "./stripe-events";

/** Written from rooms and agents; their own test files cover them. */
const OWNED_ELSEWHERE: readonly string[] = [
  "secret.refused",
  "approval.approved",
  "approval.denied",
  "approval.expired",
  "approval.voted",
  "egress.refused",
  "egress.settings_changed",
  "run.refused",
  "run.stopped_by_admin",
  "backup.created",
  "chat.restored",
  "message.edited",
  "message.deleted",
  "chat.summaries_rebuilt",
  "chat.renamed",
  "chat.archived",
  "chat.unarchived",
  "chat.deleted",
  "chat.undeleted",
  "chat.purged",
  // test/workers/marketplace.test.ts
  "marketplace.submitted",
  "marketplace.approved",
  "marketplace.rejected",
  "marketplace.taken_down",
  "marketplace.reported",
  "marketplace.installed",
  "marketplace.install_updated",
  // test/workers/people.test.ts
  "member.invited",
];

/** Each action this file covers, and the test that causes it. */
const covered: Record<string, string> = {
  "org.created": "orgs and their members",
  "org.renamed": "Clerk's webhook",
  "org.deleted": "Clerk's webhook",
  "member.added": "orgs and their members",
  "member.role_changed": "orgs and their members",
  "member.removed": "orgs and their members",
  "member.left": "orgs and their members",
  "member.limits_changed": "billing",
  "chat.created": "chats and their members",
  "chat.member_added": "chats and their members",
  "chat.member_removed": "chats and their members",
  "agent.created": "agents",
  "agent.updated": "agents",
  "agent.deleted": "agents",
  "chat.agent_added": "agents",
  "chat.agent_removed": "agents",
  "secret.created": "secrets",
  "secret.rotated": "secrets",
  "secret.grants_changed": "secrets",
  "secret.deleted": "secrets",
  "secret.used": "secrets",
  "billing.status_changed": "billing",
  "billing.checkout_started": "billing",
};

/** The actions whose entries were actually read back, and every org written to (checked at the end). */
const seen = new Set<string>();
const orgsWritten: { orgId: string; token: string }[] = [];

type Actor = AuditEntry["actor"];
const user = (id: string): Actor => ({ type: "user", id });
const clerk: Actor = { type: "system", id: "clerk" };
const stripe: Actor = { type: "system", id: "stripe" };

async function listing(token: string, orgId: string, action?: AuditAction): Promise<AuditEntry[]> {
  const query = action ? `?action=${action}` : "";
  const answer = await api<{ entries: AuditEntry[] }>(token, "GET", `/orgs/${orgId}/audit${query}`);
  expect(answer.status).toBe(200);
  return answer.body.entries;
}

/** The newest entry of `action` is the one expected; `request`: caused by a REST call, so it carries its id. */
async function expectNewest(
  token: string,
  orgId: string,
  action: AuditAction,
  want: { actor: Actor; target: string; request?: boolean },
): Promise<AuditEntry> {
  const [entry] = await listing(token, orgId, action);
  expect(entry, `an entry for ${action}`).toBeDefined();
  expect(entry).toMatchObject({ action, actor: want.actor, target: want.target, outcome: "success", count: 1 });
  if (want.request) expect(entry.requestId).toMatch(/\S/);
  seen.add(action);
  return entry;
}

async function countOf(token: string, orgId: string, action?: AuditAction): Promise<number> {
  return (await listing(token, orgId, action)).length;
}

function remember(fixture: ChatFixture): ChatFixture {
  orgsWritten.push({ orgId: fixture.orgId, token: fixture.admin.token });
  return fixture;
}

describe("audit entries of the App API", () => {
  it("orgs and their members: created, added, role changed, removed, left; repeats and refusals write nothing", async () => {
    const adminId = unique("admin");
    const admin = await tokenFor(adminId);
    const created = await api<{ id: string }>(admin, "POST", "/orgs", { name: "Audited org" });
    expect(created.status).toBe(201);
    const orgId = created.body.id;
    orgsWritten.push({ orgId, token: admin });
    await expectNewest(admin, orgId, "org.created", { actor: user(adminId), target: `org:${orgId}`, request: true });

    const bob = unique("bob");
    const carol = unique("carol");
    await tokenFor(bob);
    const carolToken = await tokenFor(carol);
    expect((await api(admin, "POST", `/orgs/${orgId}/members`, { userId: bob, role: "member" })).status).toBe(201);
    await expectNewest(admin, orgId, "member.added", {
      actor: user(adminId),
      target: `user:${bob} role=member`,
      request: true,
    });
    const total = await countOf(admin, orgId);
    // The same role again changes nothing.
    expect((await api(admin, "POST", `/orgs/${orgId}/members`, { userId: bob, role: "member" })).status).toBe(201);
    expect(await countOf(admin, orgId)).toBe(total);

    expect((await api(admin, "POST", `/orgs/${orgId}/members`, { userId: bob, role: "admin" })).status).toBe(201);
    await expectNewest(admin, orgId, "member.role_changed", {
      actor: user(adminId),
      target: `user:${bob} role=admin`,
      request: true,
    });

    expect((await api(admin, "POST", `/orgs/${orgId}/members`, { userId: carol, role: "member" })).status).toBe(201);
    const before = await countOf(admin, orgId);
    // Refused: a member may not remove someone else (403); writes nothing.
    expect((await api(carolToken, "DELETE", `/orgs/${orgId}/members`, { userId: bob })).status).toBe(403);
    expect(await countOf(admin, orgId)).toBe(before);

    expect((await api(carolToken, "DELETE", `/orgs/${orgId}/members`, { userId: carol })).status).toBe(200);
    await expectNewest(admin, orgId, "member.left", { actor: user(carol), target: `user:${carol}`, request: true });

    expect((await api(admin, "DELETE", `/orgs/${orgId}/members`, { userId: bob })).status).toBe(200);
    await expectNewest(admin, orgId, "member.removed", { actor: user(adminId), target: `user:${bob}`, request: true });
    // Removing them again changes nothing.
    const after = await countOf(admin, orgId);
    await api(admin, "DELETE", `/orgs/${orgId}/members`, { userId: bob });
    expect(await countOf(admin, orgId)).toBe(after);
  });

  it("only org admins read the log: members get 403, outsiders 404", async () => {
    const fixture = remember(await chatWithMembers(1));
    const outsider = await tokenFor(unique("outsider"));
    for (const path of [`/orgs/${fixture.orgId}/audit`, `/orgs/${fixture.orgId}/audit/verify`]) {
      expect((await api(fixture.members[0].token, "GET", path)).status).toBe(403);
      expect((await api(outsider, "GET", path)).status).toBe(404);
      expect((await api(fixture.admin.token, "GET", path)).status).toBe(200);
    }
  });

  it("chats and their members: created, member added and removed, each once", async () => {
    const fixture = remember(await chatWithMembers(0));
    const { orgId, chatId, admin } = fixture;
    await expectNewest(admin.token, orgId, "chat.created", {
      actor: user(admin.userId),
      target: `chat:${chatId}`,
      request: true,
    });
    const dave = unique("dave");
    await tokenFor(dave);
    await api(admin.token, "POST", `/orgs/${orgId}/members`, { userId: dave, role: "member" });
    expect((await api(admin.token, "POST", `/chats/${chatId}/members`, { userId: dave })).status).toBe(201);
    await expectNewest(admin.token, orgId, "chat.member_added", {
      actor: user(admin.userId),
      target: `user:${dave} chat:${chatId}`,
      request: true,
    });
    const added = await countOf(admin.token, orgId, "chat.member_added");
    expect((await api(admin.token, "POST", `/chats/${chatId}/members`, { userId: dave })).status).toBe(201);
    expect(await countOf(admin.token, orgId, "chat.member_added")).toBe(added);

    expect((await api(admin.token, "DELETE", `/chats/${chatId}/members`, { userId: dave })).status).toBe(200);
    await expectNewest(admin.token, orgId, "chat.member_removed", {
      actor: user(admin.userId),
      target: `user:${dave} chat:${chatId}`,
      request: true,
    });
    await api(admin.token, "DELETE", `/chats/${chatId}/members`, { userId: dave });
    expect(await countOf(admin.token, orgId, "chat.member_removed")).toBe(1);
  });

  it("agents: created, updated (only when something changes), added to and removed from a chat, deleted", async () => {
    const fixture = remember(await chatWithMembers(1));
    const { orgId, chatId, admin } = fixture;
    const actor = user(admin.userId);
    const created = await api<{ id: string }>(admin.token, "POST", `/orgs/${orgId}/agents`, {
      name: "Audited",
      handle: "audited",
      model: "parlor-local:0",
    });
    expect(created.status).toBe(201);
    const agentId = created.body.id;
    await expectNewest(admin.token, orgId, "agent.created", { actor, target: `agent:${agentId}`, request: true });
    // Refused: the handle is taken (409), and a member may not define agents (403).
    const total = await countOf(admin.token, orgId);
    const taken = { name: "Again", handle: "audited" };
    expect((await api(admin.token, "POST", `/orgs/${orgId}/agents`, taken)).status).toBe(409);
    expect((await api(fixture.members[0].token, "POST", `/orgs/${orgId}/agents`, taken)).status).toBe(403);
    expect(await countOf(admin.token, orgId)).toBe(total);

    const patch = { name: "Renamed", trigger: "always" };
    expect((await api(admin.token, "PATCH", `/orgs/${orgId}/agents/${agentId}`, patch)).status).toBe(200);
    await expectNewest(admin.token, orgId, "agent.updated", {
      actor,
      target: `agent:${agentId} fields=name,trigger`,
      request: true,
    });
    expect((await api(admin.token, "PATCH", `/orgs/${orgId}/agents/${agentId}`, patch)).status).toBe(200);
    expect(await countOf(admin.token, orgId, "agent.updated")).toBe(1);

    expect((await api(admin.token, "POST", `/chats/${chatId}/agents`, { agentId })).status).toBe(201);
    await expectNewest(admin.token, orgId, "chat.agent_added", {
      actor,
      target: `agent:${agentId} chat:${chatId}`,
      request: true,
    });
    await api(admin.token, "POST", `/chats/${chatId}/agents`, { agentId });
    expect(await countOf(admin.token, orgId, "chat.agent_added")).toBe(1);
    expect((await api(admin.token, "DELETE", `/chats/${chatId}/agents`, { agentId })).status).toBe(200);
    await expectNewest(admin.token, orgId, "chat.agent_removed", {
      actor,
      target: `agent:${agentId} chat:${chatId}`,
      request: true,
    });
    await api(admin.token, "DELETE", `/chats/${chatId}/agents`, { agentId });
    expect(await countOf(admin.token, orgId, "chat.agent_removed")).toBe(1);

    expect((await api(admin.token, "DELETE", `/orgs/${orgId}/agents/${agentId}`)).status).toBe(200);
    await expectNewest(admin.token, orgId, "agent.deleted", { actor, target: `agent:${agentId}`, request: true });
    expect((await api(admin.token, "DELETE", `/orgs/${orgId}/agents/${agentId}`)).status).toBe(404);
    expect(await countOf(admin.token, orgId, "agent.deleted")).toBe(1);
  });
});

const service = (env as unknown as { TEST_SERVICE_URL: string }).TEST_SERVICE_URL;
const ended = (s: TestSocket) => s.of("run.finished").length + s.of("run.failed").length > 0;

describe("audit entries of secrets", () => {
  it("secrets: created, rotated, grants changed (both at once), used by an agent, deleted; never a value", async () => {
    const fixture = remember(await chatWithMembers(0));
    const { orgId, chatId, admin } = fixture;
    const actor = user(admin.userId);
    const name = "AUDIT_TOKEN";
    const values = [`v1-${unique("s3cret")}`, `v2-${unique("s3cret")}`, `v3-${unique("s3cret")}`];
    const base = `/orgs/${orgId}/secrets`;
    expect((await api(admin.token, "POST", base, { name, value: values[0], grants: { chats: "all" } })).status).toBe(
      201,
    );
    await expectNewest(admin.token, orgId, "secret.created", { actor, target: `secret:${name}`, request: true });
    expect((await api(admin.token, "POST", base, { name, value: "x", grants: { chats: "all" } })).status).toBe(409);
    expect(await countOf(admin.token, orgId, "secret.created")).toBe(1);

    expect((await api(admin.token, "PATCH", `${base}/${name}`, { value: values[1] })).status).toBe(200);
    await expectNewest(admin.token, orgId, "secret.rotated", { actor, target: `secret:${name}`, request: true });
    expect(await countOf(admin.token, orgId, "secret.grants_changed")).toBe(0);

    // The same grants as stored change nothing; new ones do.
    expect((await api(admin.token, "PATCH", `${base}/${name}`, { grants: { chats: "all" } })).status).toBe(200);
    expect(await countOf(admin.token, orgId, "secret.grants_changed")).toBe(0);
    expect((await api(admin.token, "PATCH", `${base}/${name}`, { grants: { chats: [chatId] } })).status).toBe(200);
    await expectNewest(admin.token, orgId, "secret.grants_changed", {
      actor,
      target: `secret:${name}`,
      request: true,
    });

    // Both at once: both entries, from the one request.
    const both = { value: values[2], grants: { chats: "all" } };
    expect((await api(admin.token, "PATCH", `${base}/${name}`, both)).status).toBe(200);
    const rotated = await expectNewest(admin.token, orgId, "secret.rotated", { actor, target: `secret:${name}` });
    const regranted = await expectNewest(admin.token, orgId, "secret.grants_changed", {
      actor,
      target: `secret:${name}`,
    });
    expect(rotated.requestId).toMatch(/\S/);
    expect(regranted.requestId).toBe(rotated.requestId);
    expect(await countOf(admin.token, orgId, "secret.rotated")).toBe(2);
    expect(await countOf(admin.token, orgId, "secret.grants_changed")).toBe(2);

    // An agent's call that uses it: the agent is the actor, and the chat is named.
    const prefix = `/${unique("audit-echo")}`;
    const agent = await api<{ id: string }>(admin.token, "POST", `/orgs/${orgId}/agents`, {
      name: "Echo",
      handle: "echo",
      model: "parlor-local:0",
      tools: {
        http: {
          allow: [{ baseUrl: `${service}${prefix}`, methods: ["GET"] }],
          headers: { "X-Token": `Bearer {{secret:${name}}}` },
        },
      },
    });
    expect(agent.status).toBe(201);
    await api(admin.token, "POST", `/chats/${chatId}/agents`, { agentId: agent.body.id });
    const socket = await connect(chatId, admin.token);
    socket.send({ type: "message", text: `@echo GET ${service}${prefix}/echo`, clientMessageId: unique("m") });
    await socket.until(ended, "the run");
    const used = await expectNewest(admin.token, orgId, "secret.used", {
      actor: { type: "agent", id: agent.body.id },
      target: `secret:${name} chat:${chatId}`,
    });
    expect(used.requestId).toBeNull();

    expect((await api(admin.token, "DELETE", `${base}/${name}`)).status).toBe(200);
    await expectNewest(admin.token, orgId, "secret.deleted", { actor, target: `secret:${name}`, request: true });
    expect((await api(admin.token, "DELETE", `${base}/${name}`)).status).toBe(404);
    expect(await countOf(admin.token, orgId, "secret.deleted")).toBe(1);

    const everything = JSON.stringify(await listing(admin.token, orgId));
    for (const value of values) {
      expect(everything).not.toContain(value);
      expect(everything).not.toContain(value.slice(3));
    }
  });
});

function subscriptionEvent(orgId: string, type: string, status: string, customer: string, created: number) {
  const stable = { id: `sub_${orgId.slice(0, 8)}`, itemId: `si_${orgId.slice(0, 8)}`, periodFrom: created };
  return stripeEvent(type, subscriptionObject(orgId, { status, customer, ...stable }), created);
}

async function deliverStripe(event: object): Promise<Record<string, unknown>> {
  const { status, body } = await deliverStripeEvent(event);
  expect(status).toBe(200);
  return body;
}

function callRaw(path: string, headers: Record<string, string>, body: string): Promise<Response> {
  return call(path, { method: "POST", headers, body });
}

describe("audit entries of billing", () => {
  it("member limits, checkout, and Stripe's status changes (once per change)", async () => {
    const fixture = remember(await chatWithMembers(1));
    const { orgId, admin } = fixture;
    const member = fixture.members[0].userId;
    const limits = `/orgs/${orgId}/members/${member}/limits`;
    expect((await api(admin.token, "PUT", limits, { agentRunsPerPeriod: 5 })).status).toBe(200);
    await expectNewest(admin.token, orgId, "member.limits_changed", {
      actor: user(admin.userId),
      target: `user:${member} agentRunsPerPeriod=5 tokensPerPeriod=none`,
      request: true,
    });
    expect((await api(admin.token, "PUT", limits, { agentRunsPerPeriod: 5 })).status).toBe(200);
    expect(await countOf(admin.token, orgId, "member.limits_changed")).toBe(1);
    expect((await api(admin.token, "PUT", limits, { agentRunsPerPeriod: null })).status).toBe(200);
    await expectNewest(admin.token, orgId, "member.limits_changed", {
      actor: user(admin.userId),
      target: `user:${member} agentRunsPerPeriod=none tokensPerPeriod=none`,
      request: true,
    });

    expect((await api(admin.token, "POST", `/orgs/${orgId}/billing/checkout`)).status).toBe(200);
    await expectNewest(admin.token, orgId, "billing.checkout_started", {
      actor: user(admin.userId),
      target: "billing:checkout seats=2",
      request: true,
    });

    const customer = `cus_${unique("c")}`;
    const t0 = Math.floor(Date.now() / 1000);
    const created = subscriptionEvent(orgId, "customer.subscription.created", "active", customer, t0);
    expect(await deliverStripe(created)).toEqual({ received: true });
    await expectNewest(admin.token, orgId, "billing.status_changed", { actor: stripe, target: "billing:none->active" });
    // Redelivered, or a newer event with the same status: nothing changes, nothing is written.
    expect(await deliverStripe(created)).toEqual({ received: true, duplicate: true });
    await deliverStripe(subscriptionEvent(orgId, "customer.subscription.updated", "active", customer, t0 + 1));
    expect(await countOf(admin.token, orgId, "billing.status_changed")).toBe(1);
    await deliverStripe(subscriptionEvent(orgId, "customer.subscription.updated", "past_due", customer, t0 + 2));
    await expectNewest(admin.token, orgId, "billing.status_changed", {
      actor: stripe,
      target: "billing:active->past_due",
    });
    // A stale event loses and writes nothing.
    await deliverStripe(subscriptionEvent(orgId, "customer.subscription.updated", "canceled", customer, t0 - 5));
    expect(await countOf(admin.token, orgId, "billing.status_changed")).toBe(2);
  });
});

type Delivery = { headers: Record<string, string>; body: string };

function clerkEvent(type: string, data: Record<string, unknown>, at: Date): Delivery {
  const secret = (env as unknown as { CLERK_WEBHOOK_SIGNING_SECRET: string }).CLERK_WEBHOOK_SIGNING_SECRET;
  const id = `msg_${crypto.randomUUID()}`;
  const body = JSON.stringify({ data, object: "event", type, timestamp: at.getTime() });
  return {
    headers: {
      "content-type": "application/json",
      "svix-id": id,
      "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
      "svix-signature": new Webhook(secret).sign(id, at, body),
    },
    body,
  };
}

async function deliverClerk(delivery: Delivery): Promise<Record<string, unknown>> {
  const response = await callRaw("/api/webhooks/clerk", delivery.headers, delivery.body);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

const clerkOrg = (id: string, name: string, publicMetadata: Record<string, unknown> = {}) => ({
  object: "organization",
  id,
  name,
  slug: name.toLowerCase().replace(/\W+/g, "-"),
  image_url: "",
  has_image: false,
  created_at: Date.now(),
  updated_at: Date.now(),
  public_metadata: publicMetadata,
  private_metadata: {},
  max_allowed_memberships: 0,
  admin_delete_enabled: true,
  members_count: 0,
});

const clerkMembership = (clerkOrgId: string, userId: string, role: string) => ({
  object: "organization_membership",
  id: `orgmem_${clerkOrgId}_${userId}`,
  role,
  permissions: [],
  public_metadata: {},
  private_metadata: {},
  created_at: Date.now(),
  updated_at: Date.now(),
  organization: clerkOrg(clerkOrgId, "ignored"),
  public_user_data: {
    identifier: `${userId}@example.com`,
    first_name: userId,
    last_name: null,
    image_url: "",
    has_image: false,
    user_id: userId,
  },
});

describe("audit entries of Clerk's webhook", () => {
  it("Clerk's webhook: renamed, member added, role changed, removed, org deleted; redeliveries write nothing", async () => {
    const fixture = await chatWithMembers(0);
    const { orgId, admin } = fixture;
    const id = `org_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const t0 = Date.now();
    // Linking it under the name it has changes no name.
    await deliverClerk(
      clerkEvent("organization.created", clerkOrg(id, "Test org", { parlorOrgId: orgId }), new Date(t0)),
    );
    expect(await countOf(admin.token, orgId, "org.renamed")).toBe(0);
    const renamed = clerkEvent("organization.updated", clerkOrg(id, "Renamed org"), new Date(t0 + 1000));
    expect(await deliverClerk(renamed)).toEqual({ received: true });
    await expectNewest(admin.token, orgId, "org.renamed", { actor: clerk, target: `org:${orgId}` });
    expect(await deliverClerk(renamed)).toEqual({ received: true, duplicate: true });
    // The same name again, newer: nothing changes.
    await deliverClerk(clerkEvent("organization.updated", clerkOrg(id, "Renamed org"), new Date(t0 + 1500)));
    expect(await countOf(admin.token, orgId, "org.renamed")).toBe(1);

    const erin = unique("erin");
    await deliverClerk(
      clerkEvent("organizationMembership.created", clerkMembership(id, erin, "org:member"), new Date(t0 + 2000)),
    );
    await expectNewest(admin.token, orgId, "member.added", { actor: clerk, target: `user:${erin} role=member` });
    await deliverClerk(
      clerkEvent("organizationMembership.updated", clerkMembership(id, erin, "org:admin"), new Date(t0 + 3000)),
    );
    await expectNewest(admin.token, orgId, "member.role_changed", { actor: clerk, target: `user:${erin} role=admin` });
    const removal = clerkEvent(
      "organizationMembership.deleted",
      clerkMembership(id, erin, "org:admin"),
      new Date(t0 + 4000),
    );
    await deliverClerk(removal);
    await expectNewest(admin.token, orgId, "member.removed", { actor: clerk, target: `user:${erin}` });
    await deliverClerk(removal);
    expect(await countOf(admin.token, orgId, "member.removed")).toBe(1);

    // Still readable: the chain holds before the org goes.
    const verified = await api<{ ok: boolean }>(admin.token, "GET", `/orgs/${orgId}/audit/verify`);
    expect(verified.body.ok).toBe(true);

    // A deleted org is hidden from everyone (404), so its last entry is read from Postgres.
    const deleted = clerkEvent(
      "organization.deleted",
      { object: "organization", id, deleted: true },
      new Date(t0 + 5000),
    );
    expect(await deliverClerk(deleted)).toEqual({ received: true });
    expect(await deliverClerk(deleted)).toEqual({ received: true, duplicate: true });
    const { db, close } = openDatabase(env);
    try {
      const rows = await db
        .select()
        .from(auditEntries)
        .where(and(eq(auditEntries.orgId, orgId), eq(auditEntries.action, "org.deleted")))
        .orderBy(desc(auditEntries.seq));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        actorType: "system",
        actorId: "clerk",
        target: `org:${orgId}`,
        outcome: "success",
      });
      seen.add("org.deleted");
    } finally {
      await close();
    }
  });
});

describe("the list of actions", () => {
  it("every action is covered here or owned by another test file, and none twice", () => {
    for (const action of AUDIT_ACTIONS) {
      const here = action in covered;
      const elsewhere = OWNED_ELSEWHERE.includes(action);
      expect(here || elsewhere, `${action} is covered somewhere`).toBe(true);
      expect(here && elsewhere, `${action} is covered once`).toBe(false);
    }
    for (const action of [...Object.keys(covered), ...OWNED_ELSEWHERE]) {
      expect(AUDIT_ACTIONS as readonly string[]).toContain(action);
    }
  });

  it("every action covered here was read back, and every org's chain verifies", async () => {
    expect([...seen].sort()).toEqual(Object.keys(covered).sort());
    expect(orgsWritten.length).toBeGreaterThan(0);
    for (const { orgId, token } of orgsWritten) {
      const verified = await api<{ ok: boolean; entries: number; firstBad: number | null }>(
        token,
        "GET",
        `/orgs/${orgId}/audit/verify`,
      );
      expect(verified.status).toBe(200);
      expect(verified.body).toMatchObject({ ok: true, firstBad: null });
      expect(verified.body.entries).toBeGreaterThan(0);
    }
  });
});
