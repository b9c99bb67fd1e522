import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { app } from "../../api/app";
import { openDatabase } from "../../api/db/client";
import { orgs } from "../../api/db/schema";
import { closeCodes } from "../../protocol/chat";
import { STAND_IN_SECRET_KEY } from "../clerk-constants";
import {
  type ApiResult,
  api,
  call,
  chatWithMembers,
  client,
  connect,
  expectStatus,
  openSocket,
  tokenFor,
  unique,
} from "./helpers";

type Delivery = { headers: Record<string, string>; body: string };
const standInUrl = (env as unknown as { TEST_CLERK_API_URL: string }).TEST_CLERK_API_URL;
// Production's configuration: Clerk is the directory, reached at the local stand-in.
const clerkEnv: Env = { ...env, CLERK_SECRET_KEY: STAND_IN_SECRET_KEY, CLERK_API_URL: standInUrl };

async function clerkModeApi<T = Record<string, unknown>>(
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResult<T>> {
  const ctx = createExecutionContext();
  const response = await app.fetch(
    new Request(`http://localhost/api${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    }),
    clerkEnv,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: (await response.json()) as T };
}

async function pendingDeliveries(): Promise<Delivery[]> {
  const response = await fetch(`${standInUrl}/__deliveries`);
  return ((await response.json()) as { deliveries: Delivery[] }).deliveries;
}

function deliver(delivery: Delivery): Promise<Response> {
  return call("/api/webhooks/clerk", { method: "POST", headers: delivery.headers, body: delivery.body });
}

async function deliverAll(): Promise<void> {
  for (const delivery of await pendingDeliveries()) expect((await deliver(delivery)).status).toBe(200);
}

async function memberIds(token: string, orgId: string): Promise<string[]> {
  const result = await api<{ members: { userId: string }[] }>(token, "GET", `/orgs/${orgId}/members`);
  return result.body.members.map((m) => m.userId).sort();
}

describe("org membership through Clerk (production)", () => {
  it("an added member is pending until Clerk's webhook brings the membership back", async () => {
    const adminId = unique("admin");
    const admin = await tokenFor(adminId);
    const org = await clerkModeApi<{ id: string }>(admin, "POST", "/orgs", { name: "Clerk org" });
    expect(org.status).toBe(201);
    await deliverAll();
    const bob = unique("bob");
    const added = await clerkModeApi(admin, "POST", `/orgs/${org.body.id}/members`, { userId: bob, role: "member" });
    expect(added).toEqual({ status: 202, body: { member: { userId: bob, role: "member" }, pending: true } });
    expect(await memberIds(admin, org.body.id)).toEqual([adminId]);
    await deliverAll();
    expect(await memberIds(admin, org.body.id)).toEqual([adminId, bob].sort());
    const promoted = await clerkModeApi(admin, "POST", `/orgs/${org.body.id}/members`, { userId: bob, role: "admin" });
    expect(promoted.status).toBe(202);
    await deliverAll();
    const members = await api<{ members: { userId: string; role: string; name: string }[] }>(
      admin,
      "GET",
      `/orgs/${org.body.id}/members`,
    );
    expect(members.body.members.find((m) => m.userId === bob)).toEqual({ userId: bob, role: "admin", name: bob });
  });

  it("a redelivered webhook changes nothing, and a forged or tampered one is refused", async () => {
    const adminId = unique("admin");
    const admin = await tokenFor(adminId);
    const org = await clerkModeApi<{ id: string }>(admin, "POST", "/orgs", { name: "Clerk org" });
    await deliverAll();
    const carol = unique("carol");
    await clerkModeApi(admin, "POST", `/orgs/${org.body.id}/members`, { userId: carol, role: "member" });
    const [delivery] = await pendingDeliveries();
    const tampered = { ...delivery, body: delivery.body.replace('"org:member"', '"org:admin"') };
    const forged = await deliver(tampered);
    expect(forged.status).toBe(400);
    expect(await forged.json()).toMatchObject({ error: { code: "bad_request" } });
    expect(await memberIds(admin, org.body.id)).toEqual([adminId]);

    expect(await (await deliver(delivery)).json()).toEqual({ received: true });
    // Carol leaves through some other path; a late redelivery of the old "created" must not bring her back.
    await clerkModeApi(admin, "DELETE", `/orgs/${org.body.id}/members`, { userId: carol });
    await deliverAll();
    expect(await (await deliver(delivery)).json()).toEqual({ received: true, duplicate: true });
    expect(await memberIds(admin, org.body.id)).toEqual([adminId]);
  });

  it("webhooks delivered out of order leave the membership as Clerk's latest event says", async () => {
    const adminId = unique("admin");
    const admin = await tokenFor(adminId);
    const org = await clerkModeApi<{ id: string }>(admin, "POST", "/orgs", { name: "Clerk org" });
    await deliverAll();
    const erin = unique("erin");
    await clerkModeApi(admin, "POST", `/orgs/${org.body.id}/members`, { userId: erin, role: "member" });
    const [created] = await pendingDeliveries();
    await new Promise((r) => setTimeout(r, 5)); // Clerk's event timestamps are milliseconds
    await clerkModeApi(admin, "DELETE", `/orgs/${org.body.id}/members`, { userId: erin });
    const [deleted] = await pendingDeliveries();
    expect((await deliver(deleted)).status).toBe(200);
    expect((await deliver(created)).status).toBe(200);
    expect(await memberIds(admin, org.body.id)).toEqual([adminId]);
  });

  it("a removal confirmed by Clerk closes the member's sockets in the org's chats", async () => {
    const adminId = unique("admin");
    const admin = await tokenFor(adminId);
    const org = await clerkModeApi<{ id: string }>(admin, "POST", "/orgs", { name: "Clerk org" });
    const dave = unique("dave");
    const daveToken = await tokenFor(dave);
    await clerkModeApi(admin, "POST", `/orgs/${org.body.id}/members`, { userId: dave, role: "member" });
    await deliverAll();
    const chat = await api<{ id: string }>(admin, "POST", `/orgs/${org.body.id}/chats`, { title: "ops" });
    expect((await api(admin, "POST", `/chats/${chat.body.id}/members`, { userId: dave })).status).toBe(201);
    const socket = await connect(chat.body.id, daveToken);

    const removal = await clerkModeApi(admin, "DELETE", `/orgs/${org.body.id}/members`, { userId: dave });
    expect(removal.status).toBe(202);
    expect(socket.closed).toBeNull();
    await deliverAll();
    await socket.until((s) => s.closed !== null, "the close");
    expect(socket.closed?.code).toBe(closeCodes.removedFromChat);
    expect((await api(daveToken, "GET", `/chats/${chat.body.id}/messages`)).status).toBe(404);
  });

  it("the last admin cannot be removed through the API, even with Clerk as the directory", async () => {
    const adminId = unique("admin");
    const admin = await tokenFor(adminId);
    const org = await clerkModeApi<{ id: string }>(admin, "POST", "/orgs", { name: "Clerk org" });
    const result = await clerkModeApi(admin, "DELETE", `/orgs/${org.body.id}/members`, { userId: adminId });
    expect(result.status).toBe(409);
    await deliverAll();
    expect(await memberIds(admin, org.body.id)).toEqual([adminId]);
  });
});

/** A delivery of `type` signed as Clerk signs them (Standard Webhooks, with the secret the Worker is given). */
function clerkEvent(type: string, data: Record<string, unknown>, at = new Date()): Delivery {
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

const clerkUser = (id: string, names: { first_name?: string; last_name?: string; username?: string }) => ({
  object: "user",
  id,
  first_name: null,
  last_name: null,
  username: null,
  ...names,
});

async function orgMemberNames(token: string, orgId: string): Promise<Record<string, string>> {
  const listed = await client(token).api.orgs[":orgId"].members.$get({ param: { orgId }, query: {} });
  return Object.fromEntries((await listed.json()).members.map((m) => [m.userId, m.name]));
}

describe("users through Clerk's webhook", () => {
  it("user.created names a person, and user.updated renames them wherever they are listed", async () => {
    const fixture = await chatWithMembers(0);
    const bob = unique("bob");
    const created = clerkEvent("user.created", clerkUser(bob, { first_name: "Bob", last_name: "Stone" }));
    expect(await (await deliver(created)).json()).toEqual({ received: true });
    await api(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/members`, { userId: bob, role: "member" });
    await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/members`, { userId: bob });
    expect((await orgMemberNames(fixture.admin.token, fixture.orgId))[bob]).toBe("Bob Stone");

    const renamed = clerkEvent("user.updated", clerkUser(bob, { first_name: "Robert", last_name: "Stone" }));
    expect((await deliver(renamed)).status).toBe(200);
    expect((await orgMemberNames(fixture.admin.token, fixture.orgId))[bob]).toBe("Robert Stone");
    const chatMembers = await client(fixture.admin.token).api.chats[":chatId"].members.$get({
      param: { chatId: fixture.chatId },
    });
    expect((await chatMembers.json()).members).toContainEqual({ userId: bob, name: "Robert Stone" });

    // Without a first or last name, the username; without that either, the id.
    await deliver(clerkEvent("user.updated", clerkUser(bob, { username: "bobby" })));
    expect((await orgMemberNames(fixture.admin.token, fixture.orgId))[bob]).toBe("bobby");
    await deliver(clerkEvent("user.updated", clerkUser(bob, {})));
    expect((await orgMemberNames(fixture.admin.token, fixture.orgId))[bob]).toBe(bob);

    // A redelivery of an event already applied changes nothing.
    expect(await (await deliver(renamed)).json()).toEqual({ received: true, duplicate: true });
    expect((await orgMemberNames(fixture.admin.token, fixture.orgId))[bob]).toBe(bob);
  });

  it("user.deleted takes the person out of every org and closes their sockets in every chat", async () => {
    const first = await chatWithMembers(1);
    const [leaver] = first.members;
    const second = await chatWithMembers(0);
    await api(second.admin.token, "POST", `/orgs/${second.orgId}/members`, { userId: leaver.userId, role: "admin" });
    await api(second.admin.token, "POST", `/chats/${second.chatId}/members`, { userId: leaver.userId });
    const sockets = [await connect(first.chatId, leaver.token), await connect(second.chatId, leaver.token)];
    const orgsOf = async (token: string) =>
      (await (await expectStatus(await client(token).api.orgs.$get(), 200)).json()).orgs.map((o) => o.id).sort();
    expect(await orgsOf(leaver.token)).toEqual([first.orgId, second.orgId].sort());

    const deleted = clerkEvent("user.deleted", { object: "user", id: leaver.userId, deleted: true });
    expect(await (await deliver(deleted)).json()).toEqual({ received: true });
    for (const socket of sockets) {
      await socket.until((s) => s.closed !== null, "the close");
      expect(socket.closed?.code).toBe(closeCodes.removedFromChat);
    }
    expect(await orgsOf(leaver.token)).toEqual([]);
    expect(Object.keys(await orgMemberNames(first.admin.token, first.orgId))).toEqual([first.admin.userId]);
    expect(Object.keys(await orgMemberNames(second.admin.token, second.orgId))).toEqual([second.admin.userId]);
    expect((await openSocket(first.chatId, leaver.token)).status).toBe(404);
  });
});

/** Clerk's organization resource, as its `organization.*` webhooks carry it. */
const clerkOrg = (id: string, name: string, publicMetadata: Record<string, unknown> = {}, createdBy?: string) => ({
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
  ...(createdBy ? { created_by: createdBy } : {}),
});

const clerkMembership = (clerkOrgId: string, userId: string, role = "org:member") => ({
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

async function orgRows(where: { clerkOrgId?: string; id?: string }) {
  const { db, close } = openDatabase(env);
  try {
    return await db
      .select()
      .from(orgs)
      .where(where.id ? eq(orgs.id, where.id) : eq(orgs.clerkOrgId, where.clerkOrgId ?? ""));
  } finally {
    await close();
  }
}

async function myOrgs(token: string): Promise<{ id: string; name: string }[]> {
  return (await api<{ orgs: { id: string; name: string }[] }>(token, "GET", "/orgs")).body.orgs;
}

async function deliverThrice(delivery: Delivery): Promise<void> {
  expect(await (await deliver(delivery)).json()).toEqual({ received: true });
  for (let i = 0; i < 2; i++)
    expect(await (await deliver(delivery)).json()).toEqual({ received: true, duplicate: true });
}

const clerkOrgId = () => `org_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;

describe("orgs through Clerk's webhook", () => {
  it("an org made in Clerk's dashboard appears once, with no creator, and its members see it", async () => {
    const id = clerkOrgId();
    await deliverThrice(clerkEvent("organization.created", clerkOrg(id, "Dashboard org", {}, unique("stranger"))));
    const rows = await orgRows({ clerkOrgId: id });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: "Dashboard org", createdBy: null, deletedAt: null });
    const ann = unique("ann");
    await deliverThrice(clerkEvent("organizationMembership.created", clerkMembership(id, ann, "org:admin")));
    expect(await myOrgs(await tokenFor(ann))).toEqual([
      expect.objectContaining({ id: rows[0].id, name: "Dashboard org" }),
    ]);
  });

  it("a membership that arrives before its organization.created brings the org with it", async () => {
    const id = clerkOrgId();
    const t0 = Date.now();
    const gus = unique("gus");
    const membership = { ...clerkMembership(id, gus, "org:admin"), organization: clerkOrg(id, "Early org") };
    await deliverThrice(clerkEvent("organizationMembership.created", membership, new Date(t0 + 10)));
    await deliverThrice(clerkEvent("organization.created", clerkOrg(id, "Early org"), new Date(t0)));
    const rows = await orgRows({ clerkOrgId: id });
    expect(rows).toEqual([expect.objectContaining({ name: "Early org", createdBy: null })]);
    expect(await memberIds(await tokenFor(gus), rows[0].id)).toEqual([gus]);
  });

  it("an org created through the API is sent with its id as metadata, and its webhook links it without a duplicate", async () => {
    const adminId = unique("admin");
    const admin = await tokenFor(adminId);
    const org = await clerkModeApi<{ id: string }>(admin, "POST", "/orgs", { name: "Made here" });
    expect(org.status).toBe(201);
    const deliveries = await pendingDeliveries();
    const created = deliveries.find((d) => JSON.parse(d.body).type === "organization.created");
    expect(JSON.parse(created?.body ?? "{}").data.public_metadata).toEqual({ parlorOrgId: org.body.id });
    for (const delivery of deliveries) await deliverThrice(delivery);
    const [row] = await orgRows({ id: org.body.id });
    expect(row.clerkOrgId).toMatch(/^org_/);
    expect(await orgRows({ clerkOrgId: row.clerkOrgId ?? "" })).toHaveLength(1);
    expect(row.createdBy).toBe(adminId);
    expect((await myOrgs(admin)).map((o) => o.id)).toEqual([org.body.id]);
  });

  it("when Clerk refuses the organization, the Parlor row is removed too: no orphan on either side", async () => {
    const admin = await tokenFor(unique("admin"));
    const refused = await clerkModeApi(admin, "POST", "/orgs", { name: "Refused org" });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(await myOrgs(admin)).toEqual([]);
    expect(await pendingDeliveries()).toEqual([]);
  });

  it("a webhook that arrives before Clerk's id is stored matches the row by its metadata", async () => {
    const fixture = await chatWithMembers(0);
    expect((await orgRows({ id: fixture.orgId }))[0].clerkOrgId).toBeNull();
    const id = clerkOrgId();
    await deliverThrice(clerkEvent("organization.created", clerkOrg(id, "Test org", { parlorOrgId: fixture.orgId })));
    expect(await orgRows({ clerkOrgId: id })).toEqual([expect.objectContaining({ id: fixture.orgId })]);
    const bob = unique("bob");
    await deliverThrice(clerkEvent("organizationMembership.created", clerkMembership(id, bob)));
    expect(await memberIds(fixture.admin.token, fixture.orgId)).toEqual([fixture.admin.userId, bob].sort());
  });

  it("renames follow Clerk's latest event: a stale organization.updated loses", async () => {
    const id = clerkOrgId();
    const t0 = Date.now();
    await deliver(clerkEvent("organization.created", clerkOrg(id, "First"), new Date(t0)));
    await deliverThrice(clerkEvent("organization.updated", clerkOrg(id, "  Newest  "), new Date(t0 + 2000)));
    await deliverThrice(clerkEvent("organization.updated", clerkOrg(id, "Stale"), new Date(t0 + 1000)));
    await deliver(clerkEvent("organization.created", clerkOrg(id, "First"), new Date(t0)));
    expect(await orgRows({ clerkOrgId: id })).toEqual([expect.objectContaining({ name: "Newest" })]);
  });

  it("organization.deleted closes its chats' sockets and hides the org and its chats; redelivery changes nothing", async () => {
    const fixture = await chatWithMembers(1);
    const [member] = fixture.members;
    const id = clerkOrgId();
    const t0 = Date.now();
    await deliver(
      clerkEvent("organization.created", clerkOrg(id, "Test org", { parlorOrgId: fixture.orgId }), new Date(t0)),
    );
    const socket = await connect(fixture.chatId, member.token);

    const deleted = clerkEvent(
      "organization.deleted",
      { object: "organization", id, deleted: true },
      new Date(t0 + 2000),
    );
    expect(await (await deliver(deleted)).json()).toEqual({ received: true });
    await socket.until((s) => s.closed !== null, "the close");
    expect(socket.closed?.code).toBe(closeCodes.removedFromChat);
    for (const who of [member, fixture.admin]) {
      expect(await myOrgs(who.token)).toEqual([]);
      expect((await api(who.token, "GET", `/orgs/${fixture.orgId}/members`)).status).toBe(404);
      expect((await api(who.token, "GET", `/orgs/${fixture.orgId}/chats`)).status).toBe(404);
      expect((await api(who.token, "GET", `/chats/${fixture.chatId}/messages`)).status).toBe(404);
      expect((await openSocket(fixture.chatId, who.token)).status).toBe(404);
    }
    const [tombstone] = await orgRows({ id: fixture.orgId });
    expect(tombstone.deletedAt).not.toBeNull();

    // Redelivered, or a late rename or re-creation: the tombstone stays as it is.
    expect(await (await deliver(deleted)).json()).toEqual({ received: true, duplicate: true });
    await deliver(clerkEvent("organization.updated", clerkOrg(id, "Revived"), new Date(t0 + 1000)));
    await deliver(clerkEvent("organization.created", clerkOrg(id, "Revived", { parlorOrgId: fixture.orgId })));
    await deliver(clerkEvent("organizationMembership.created", clerkMembership(id, unique("late"))));
    expect(await orgRows({ id: fixture.orgId })).toEqual([tombstone]);
    expect(await myOrgs(fixture.admin.token)).toEqual([]);
  });
});

describe("leaving an org", () => {
  it("a member may remove themself but nobody else; the last admin may not leave", async () => {
    const fixture = await chatWithMembers(2);
    const [leaver, other] = fixture.members;
    const socket = await connect(fixture.chatId, leaver.token);
    const notTheirs = await api(leaver.token, "DELETE", `/orgs/${fixture.orgId}/members`, { userId: other.userId });
    expect(notTheirs.status).toBe(403);
    const left = await api(leaver.token, "DELETE", `/orgs/${fixture.orgId}/members`, { userId: leaver.userId });
    expect(left).toEqual({ status: 200, body: { removed: { userId: leaver.userId }, chats: [fixture.chatId] } });
    await socket.until((s) => s.closed !== null, "the close");
    expect(socket.closed?.code).toBe(closeCodes.removedFromChat);
    expect(await myOrgs(leaver.token)).toEqual([]);
    expect((await api(leaver.token, "GET", `/orgs/${fixture.orgId}/members`)).status).toBe(404);

    const lastAdmin = await api(fixture.admin.token, "DELETE", `/orgs/${fixture.orgId}/members`, {
      userId: fixture.admin.userId,
    });
    expect(lastAdmin.status).toBe(409);
    expect(await memberIds(fixture.admin.token, fixture.orgId)).toEqual([fixture.admin.userId, other.userId].sort());
  });

  it("in Clerk mode, leaving goes to Clerk and lands with its webhook", async () => {
    const adminId = unique("admin");
    const admin = await tokenFor(adminId);
    const org = await clerkModeApi<{ id: string }>(admin, "POST", "/orgs", { name: "Clerk org" });
    const fay = unique("fay");
    const fayToken = await tokenFor(fay);
    await clerkModeApi(admin, "POST", `/orgs/${org.body.id}/members`, { userId: fay, role: "member" });
    await deliverAll();
    const left = await clerkModeApi(fayToken, "DELETE", `/orgs/${org.body.id}/members`, { userId: fay });
    expect(left).toEqual({ status: 202, body: { removed: { userId: fay }, pending: true } });
    await deliverAll();
    expect(await memberIds(admin, org.body.id)).toEqual([adminId]);
    expect(await myOrgs(fayToken)).toEqual([]);
  });
});
