/**
 * Counters per chat and per org (`GET /api/dev/counters`), the data points production sends to Analytics Engine,
 * and the room's operation counts for the benchmark (`GET /api/dev/chats/:chatId/stats`).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sumCounters } from "../../api/counters";
import type { CountersResponse, RoomCounters } from "../../protocol/counters";
import { dataPoint, eventOf, RoomCounterLog } from "../../rooms/counters";
import { api, type ChatFixture, chatWithMembers, connect, type TestSocket, tokenFor, unique } from "./helpers";
import { deliverStripeEvent, stripeEvent, subscriptionObject } from "./stripe-events";

const service = (env as unknown as { TEST_SERVICE_URL: string }).TEST_SERVICE_URL;

function counters(token: string | null, orgId: string, chatId?: string) {
  const query = new URLSearchParams({ orgId, ...(chatId ? { chatId } : {}) });
  return api<CountersResponse>(token, "GET", `/dev/counters?${query}`);
}

async function addAgent(fixture: ChatFixture, body: object): Promise<string> {
  const created = await api<{ id: string }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/agents`, body);
  expect(created.status).toBe(201);
  const added = await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/agents`, { agentId: created.body.id });
  expect(added.status).toBe(201);
  return created.body.id;
}

/** The org's subscription goes unpaid, through a signed Stripe webhook, so its rooms refuse new runs. */
async function lapseBilling(orgId: string): Promise<void> {
  const delivered = await deliverStripeEvent(
    stripeEvent("customer.subscription.updated", subscriptionObject(orgId, { status: "unpaid" })),
  );
  expect(delivered.status).toBe(200);
}

const ended = (s: TestSocket, runs: number) => s.of("run.finished").length + s.of("run.failed").length >= runs;

describe("counters", () => {
  it("count a chat's messages, sockets, runs started and refused, tool calls and pending approvals, and sum an org's chats", async () => {
    const fixture = await chatWithMembers(1);
    const [member] = fixture.members;
    await addAgent(fixture, { name: "Helper", handle: "helper", model: "parlor-local:0" });
    const prefix = `/${unique("counters")}`;
    await addAgent(fixture, {
      name: "Ops",
      handle: "ops",
      tools: { http: { allow: [{ baseUrl: `${service}${prefix}`, methods: ["POST"] }] } },
    });
    const admin = await connect(fixture.chatId, fixture.admin.token);
    const socket = await connect(fixture.chatId, member.token);

    socket.send({ type: "message", text: "hello", clientMessageId: "c1" });
    socket.send({ type: "message", text: "@helper hi", clientMessageId: "c2" });
    await socket.until((s) => s.of("run.started").length === 1 && ended(s, 1), "the helper's run");
    admin.send({ type: "message", text: `@ops POST ${service}${prefix}/items {"a":1}`, clientMessageId: "c3" });
    await admin.until((s) => s.of("approval.requested").length === 1, "the approval request");

    const before = await counters(member.token, fixture.orgId, fixture.chatId);
    expect(before.status).toBe(200);
    expect(before.body.chats).toHaveLength(1);
    expect(before.body.chats[0].chatId).toBe(fixture.chatId);
    expect(before.body.totals).toEqual(before.body.chats[0].counters);
    expect(before.body.totals).toMatchObject({
      memberMessages: 3,
      openSockets: 2,
      runsStarted: 2,
      runsFailed: 0,
      runsRefused: 0,
      toolCalls: 1,
      approvalsPending: 1,
      errors: 0,
    });
    // The helper's reply is a message too.
    expect(before.body.totals.messages).toBeGreaterThanOrEqual(4);

    await lapseBilling(fixture.orgId);
    socket.send({ type: "message", text: "@helper again", clientMessageId: "c4" });
    await socket.until((s) => s.of("error").some((e) => e.code === "billing_lapsed"), "the refusal");
    admin.close();
    await socket.until((s) => s.of("presence").at(-1)?.users.length === 1, "the admin to leave");

    const after = (await counters(member.token, fixture.orgId, fixture.chatId)).body.totals;
    expect(after).toMatchObject({
      memberMessages: 4,
      openSockets: 1,
      runsStarted: 2,
      runsRefused: 1,
      approvalsPending: 1,
    });
    // The refusal's notice is a message of its own.
    expect(after.messages).toBe(before.body.totals.messages + 2);

    // A second chat of the org: the org's counters are both, summed.
    const other = await api<{ id: string }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/chats`, {
      title: "second",
    });
    expect(other.status).toBe(201);
    const posted = await api(fixture.admin.token, "POST", `/chats/${other.body.id}/messages`, {
      text: "in the second chat",
      clientMessageId: "d1",
    });
    expect(posted.status).toBe(201);
    const org = await counters(fixture.admin.token, fixture.orgId);
    expect(org.status).toBe(200);
    expect(org.body.chats.map((c) => c.chatId).sort()).toEqual([fixture.chatId, other.body.id].sort());
    expect(org.body.totals).toEqual(sumCounters(org.body.chats.map((c) => c.counters)));
    expect(org.body.totals).toMatchObject({ memberMessages: 5, runsStarted: 2, runsRefused: 1, approvalsPending: 1 });
    socket.close();
  });

  it("are refused to callers outside the chat's org, and an org's to members who are not its admins", async () => {
    const fixture = await chatWithMembers(1);
    const stranger = await chatWithMembers(0);
    // The stranger's own org, naming a chat it does not own; and the chat's org, which the stranger is not in.
    expect((await counters(stranger.admin.token, stranger.orgId, fixture.chatId)).status).toBe(404);
    expect((await counters(stranger.admin.token, fixture.orgId, fixture.chatId)).status).toBe(404);
    expect((await counters(stranger.admin.token, fixture.orgId)).status).toBe(404);
    expect((await counters(fixture.members[0].token, fixture.orgId)).status).toBe(403);
    // An org member who is not in the chat.
    const outsiderId = unique("outsider");
    const outsider = await tokenFor(outsiderId);
    await api(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/members`, { userId: outsiderId, role: "member" });
    expect((await counters(outsider, fixture.orgId, fixture.chatId)).status).toBe(403);
    expect((await counters(null, fixture.orgId, fixture.chatId)).status).toBe(401);
    expect((await counters(fixture.admin.token, fixture.orgId, fixture.chatId)).status).toBe(200);
  });
});

describe("operation counts", () => {
  it("report the room's requests, SQLite rows, R2 calls and the isolate's Postgres statements", async () => {
    const fixture = await chatWithMembers(0);
    const stats = () =>
      api<{
        rowsWritten: number;
        requests: Record<string, number>;
        sql: { execs: number; rowsRead: number; rowsWritten: number };
        r2: { classA: number; classB: number; free: number };
        postgresQueries: number;
      }>(null, "GET", `/dev/chats/${fixture.chatId}/stats`);
    const first = (await stats()).body;
    const socket = await connect(fixture.chatId, fixture.admin.token);
    for (let i = 0; i < 3; i++) socket.send({ type: "message", text: `m${i}`, clientMessageId: `m${i}` });
    await socket.until((s) => s.of("message").length === 3, "three messages");
    const backup = await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/backups`);
    expect(backup.status).toBe(201);
    const second = (await stats()).body;
    expect(second.rowsWritten).toBeGreaterThan(first.rowsWritten);
    expect(second.requests.socketUpgrades - first.requests.socketUpgrades).toBe(1);
    expect(second.requests.socketMessages - first.requests.socketMessages).toBe(3);
    // The stats call itself, the backup, and what the socket's upgrade asked of the room.
    expect(second.requests.rpc - first.requests.rpc).toBeGreaterThanOrEqual(2);
    expect(second.sql.rowsWritten - first.sql.rowsWritten).toBeGreaterThanOrEqual(3);
    expect(second.sql.rowsRead).toBeGreaterThan(first.sql.rowsRead);
    expect(second.sql.execs).toBeGreaterThan(first.sql.execs);
    expect(second.r2.classA - first.r2.classA).toBeGreaterThanOrEqual(2);
    expect(second.postgresQueries).toBeGreaterThan(first.postgresQueries);
    socket.close();
  });
});

describe("data points", () => {
  const chat = { orgId: "org-1", chatId: "chat-1" };

  it("index the org, name the event, org and chat, and carry the count (and a level when there is one)", () => {
    expect(dataPoint("message", chat)).toEqual({
      indexes: ["org-1"],
      blobs: ["message", "org-1", "chat-1"],
      doubles: [1],
    });
    expect(dataPoint("socket_opened", chat, 1, 4)).toEqual({
      indexes: ["org-1"],
      blobs: ["socket_opened", "org-1", "chat-1"],
      doubles: [1, 4],
    });
    expect(dataPoint("run_refused", chat, 3).doubles).toEqual([3]);
  });

  it("are read off the room's broadcasts: runs started and ended, tool calls when they start, approvals", () => {
    const run = { runId: "r", agentId: "a" };
    expect(eventOf({ type: "run.started", ...run, triggerSeq: 1 })).toBe("run_started");
    expect(eventOf({ type: "run.failed", ...run, reason: "x", seq: 2 })).toBe("run_failed");
    expect(eventOf({ type: "run.finished", ...run, seq: 2 })).toBe("run_finished");
    expect(eventOf({ type: "run.delta", ...run, text: "x", index: 0 })).toBeNull();
    const tool = { type: "run.tool", ...run, toolCallId: "t", name: "http", input: {} } as const;
    expect(eventOf({ ...tool, status: "running" })).toBe("tool_call");
    expect(eventOf({ ...tool, status: "done" })).toBeNull();
    const decided = { type: "approval.decided", ...run, approvalId: "ap", by: "u" } as const;
    expect(eventOf({ ...decided, decision: "expired" })).toBe("approval_decided");
    expect(eventOf({ type: "presence", users: [] })).toBeNull();
    expect(eventOf({ type: "typing", user: { id: "u", name: "U" } })).toBeNull();
  });

  it("are written only where the dataset is bound, never failing the work they count", () => {
    const written: AnalyticsEngineDataPoint[] = [];
    const dataset = { writeDataPoint: (point?: AnalyticsEngineDataPoint) => point && written.push(point) };
    const log = new RoomCounterLog(dataset, () => chat, { socket_opened: () => 2 });
    log.count("socket_opened");
    log.count("tool_call");
    log.count("run_refused", 2);
    expect(written).toEqual([
      dataPoint("socket_opened", chat, 1, 2),
      dataPoint("tool_call", chat),
      dataPoint("run_refused", chat, 2),
    ]);
    expect(log.sinceWake).toMatchObject({ toolCalls: 1, runsRefused: 2, errors: 0 });

    let levelRead = false;
    const unbound = new RoomCounterLog(undefined, () => chat, {
      socket_closed: () => {
        levelRead = true;
        return 0;
      },
    });
    unbound.count("socket_closed");
    unbound.count("error");
    expect(levelRead).toBe(false);
    expect(unbound.sinceWake.errors).toBe(1);

    const failing = new RoomCounterLog(
      {
        writeDataPoint: () => {
          throw new Error("dataset down");
        },
      },
      () => chat,
    );
    expect(() => failing.count("message")).not.toThrow();
  });

  it("sum per org field by field", () => {
    const one = (n: number): RoomCounters => ({
      messages: n,
      memberMessages: n,
      openSockets: n,
      runsStarted: n,
      runsFailed: n,
      approvalsPending: n,
      tokensIn: n,
      tokensOut: n,
      runsRefused: n,
      toolCalls: n,
      errors: n,
    });
    expect(sumCounters([one(1), one(2)])).toEqual(one(3));
    expect(sumCounters([])).toEqual(one(0));
  });
});
