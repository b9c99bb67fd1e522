/**
 * Review of quorum approvals (issue 14): votes that race, voters who lose their right after the request (removed from
 * the chat, demoted), and a run whose `wait` approval outlived its expiry that must still stop. Real rooms, the
 * built-in model asking for a POST to the test service, votes over the socket and REST.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Approval } from "../../protocol/agents";
import type { ChatRoom } from "../../rooms/chat-room";
import { api, type ChatFixture, chatWithMembers, connect, type TestSocket, unique } from "./helpers";

const service = (env as unknown as { TEST_SERVICE_URL: string }).TEST_SERVICE_URL;

async function received(prefix: string): Promise<unknown[]> {
  const response = await fetch(`${service}/__requests?prefix=${encodeURIComponent(prefix)}`);
  return ((await response.json()) as { requests: unknown[] }).requests;
}

function roomStub(chatId: string): DurableObjectStub<ChatRoom> {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}

async function addOpsAgent(fixture: ChatFixture, prefix: string, approval: object): Promise<void> {
  const created = await api<{ id: string }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/agents`, {
    name: "Ops",
    handle: "ops",
    tools: { http: { allow: [{ baseUrl: `${service}${prefix}`, methods: ["POST"] }], approval } },
  });
  expect(created.status).toBe(201);
  await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/agents`, { agentId: created.body.id });
}

async function askApproval(socket: TestSocket, prefix: string): Promise<{ approvalId: string; runId: string }> {
  socket.send({ type: "message", text: `@ops POST ${service}${prefix}/items {"a":1}`, clientMessageId: unique("p") });
  await socket.until((s) => s.of("approval.requested").length === 1, "the approval request");
  const { approvalId, runId } = socket.of("approval.requested")[0];
  return { approvalId, runId };
}

function vote(token: string, fixture: ChatFixture, approvalId: string, decision: "approve" | "deny") {
  return api<{ approval: Approval }>(token, "POST", `/chats/${fixture.chatId}/approvals/${approvalId}`, { decision });
}

async function theApproval(fixture: ChatFixture): Promise<Approval> {
  const answer = await api<{ approvals: Approval[] }>(fixture.admin.token, "GET", `/chats/${fixture.chatId}/approvals`);
  expect(answer.status).toBe(200);
  return answer.body.approvals[0];
}

const ended = (s: TestSocket) => s.of("run.finished").length + s.of("run.failed").length > 0;

describe("approval votes under review", () => {
  it("three votes racing over the socket and REST for a quorum of 2: two count, it is decided and sent once", async () => {
    const fixture = await chatWithMembers(2);
    const [ana, bo] = fixture.members;
    const prefix = `/${unique("race")}`;
    await addOpsAgent(fixture, prefix, { approvers: "members", quorum: 2 });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    const anaSocket = await connect(fixture.chatId, ana.token);
    const { approvalId } = await askApproval(socket, prefix);

    anaSocket.send({ type: "approval", approvalId, decision: "approve" });
    const [byBo, byAdmin] = await Promise.all([
      vote(bo.token, fixture, approvalId, "approve"),
      vote(fixture.admin.token, fixture, approvalId, "approve"),
    ]);
    await socket.until(ended, "the run");
    await anaSocket.until(
      (s) => s.of("approval.vote").some((v) => v.by === ana.userId) || s.of("error").length > 0,
      "ana's answer",
    );
    const accepted =
      [byBo, byAdmin].filter((r) => r.status === 200).length + (anaSocket.of("error").length === 0 ? 1 : 0);
    expect(accepted).toBe(2);
    expect([byBo.status, byAdmin.status].every((s) => s === 200 || s === 409)).toBe(true);
    expect(socket.of("approval.decided")).toHaveLength(1);
    expect(socket.of("approval.vote").map((v) => v.votes)).toEqual([1, 2]);
    const decided = await theApproval(fixture);
    expect(decided).toMatchObject({ status: "approved" });
    expect(decided.votes).toHaveLength(2);
    expect(await received(prefix)).toHaveLength(1);
  });

  it("a member removed from the chat after voting no longer counts toward the quorum", async () => {
    const fixture = await chatWithMembers(2);
    const [ana, bo] = fixture.members;
    const prefix = `/${unique("removed")}`;
    await addOpsAgent(fixture, prefix, { approvers: "members", quorum: 2 });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    const { approvalId } = await askApproval(socket, prefix);
    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(200);
    const removed = await api(fixture.admin.token, "DELETE", `/chats/${fixture.chatId}/members`, {
      userId: ana.userId,
    });
    expect(removed.status).toBe(200);
    // Ana cannot vote again, and her earlier vote is no longer one of the two the policy needs.
    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(403);
    const byBo = await vote(bo.token, fixture, approvalId, "approve");
    expect(byBo.status).toBe(200);
    expect(byBo.body.approval.status).toBe("pending");
    await socket.until((s) => s.of("approval.vote").length === 2, "bo's vote");
    expect(socket.of("approval.vote")[1]).toMatchObject({ by: bo.userId, votes: 1, needed: 2 });
    expect(await received(prefix)).toEqual([]);

    expect((await vote(fixture.admin.token, fixture, approvalId, "approve")).status).toBe(200);
    await socket.until(ended, "the run");
    expect(socket.of("approval.decided")).toEqual([expect.objectContaining({ decision: "approved" })]);
    expect(await received(prefix)).toHaveLength(1);
  });

  it("an admin demoted after the request can no longer vote under an admins policy, over the socket or REST", async () => {
    const fixture = await chatWithMembers(1);
    const [ana] = fixture.members;
    const prefix = `/${unique("demoted")}`;
    const setRole = (role: "admin" | "member") =>
      api(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/members`, { userId: ana.userId, role });
    expect((await setRole("admin")).status).toBe(201);
    await addOpsAgent(fixture, prefix, { approvers: "admins" });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    const anaSocket = await connect(fixture.chatId, ana.token);
    const { approvalId } = await askApproval(socket, prefix);
    expect((await setRole("member")).status).toBe(201);
    anaSocket.send({ type: "approval", approvalId, decision: "approve" });
    await anaSocket.until((s) => s.of("error").length === 1, "the refusal");
    expect(anaSocket.of("error")[0]).toMatchObject({ code: "forbidden" });
    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(403);
    expect(await theApproval(fixture)).toMatchObject({ status: "pending", votes: [] });
    expect(await received(prefix)).toEqual([]);
  });

  it("an admin demoted after voting no longer counts toward an admins quorum; made admin again, they do", async () => {
    const fixture = await chatWithMembers(2);
    const [ana, bo] = fixture.members;
    const prefix = `/${unique("demotedvote")}`;
    const setRole = (userId: string, role: "admin" | "member") =>
      api(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/members`, { userId, role });
    expect((await setRole(ana.userId, "admin")).status).toBe(201);
    expect((await setRole(bo.userId, "admin")).status).toBe(201);
    await addOpsAgent(fixture, prefix, { approvers: "admins", quorum: 2 });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    const { approvalId } = await askApproval(socket, prefix);
    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(200);
    expect((await setRole(ana.userId, "member")).status).toBe(201);
    const byBo = await vote(bo.token, fixture, approvalId, "approve");
    expect(byBo.status).toBe(200);
    expect(byBo.body.approval.status).toBe("pending");
    await socket.until((s) => s.of("approval.vote").length === 2, "bo's vote");
    expect(socket.of("approval.vote")[1]).toMatchObject({ by: bo.userId, votes: 1, needed: 2 });
    expect(await received(prefix)).toEqual([]);

    // Made admin again, her vote counts again: with Bo's it meets the quorum, and the room decides at once (nobody
    // can vote twice, so waiting for another vote could leave it pending at 2 of 2).
    expect((await setRole(ana.userId, "admin")).status).toBe(201);
    await socket.until(ended, "the run");
    expect(socket.of("approval.decided")).toEqual([expect.objectContaining({ decision: "approved", by: ana.userId })]);
    expect((await vote(fixture.admin.token, fixture, approvalId, "approve")).status).toBe(409);
    expect(await received(prefix)).toHaveLength(1);
  });

  it("a vote that arrives after expiry but before the alarm is a 409 and stores nothing; the alarm then expires it", async () => {
    const fixture = await chatWithMembers(1);
    const [ana] = fixture.members;
    const prefix = `/${unique("late")}`;
    await addOpsAgent(fixture, prefix, { approvers: "members", quorum: 1, timeoutSeconds: 60 });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    const { approvalId } = await askApproval(socket, prefix);
    await runInDurableObject(roomStub(fixture.chatId), (_room, state) => {
      state.storage.sql.exec("UPDATE approvals SET expires_at = ?", new Date(Date.now() - 1000).toISOString());
    });
    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(409);
    expect(await theApproval(fixture)).toMatchObject({ status: "pending", votes: [] });
    await runDurableObjectAlarm(roomStub(fixture.chatId));
    await socket.until(ended, "the run");
    expect(socket.of("approval.decided")).toEqual([expect.objectContaining({ decision: "expired", by: "parlor" })]);
    expect(socket.of("approval.vote")).toEqual([]);
    expect(await received(prefix)).toEqual([]);
  });

  it('a run whose "wait" approval outlived its expiry can still be stopped; nothing is reminded or sent after', async () => {
    const fixture = await chatWithMembers(1);
    const [ana] = fixture.members;
    const prefix = `/${unique("stopwait")}`;
    await addOpsAgent(fixture, prefix, { approvers: "members", quorum: 2, timeoutSeconds: 60, onExpiry: "wait" });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    const { approvalId, runId } = await askApproval(socket, prefix);
    const past = new Date(Date.now() - 1000).toISOString();
    await runInDurableObject(roomStub(fixture.chatId), (_room, state) => {
      state.storage.sql.exec("UPDATE approvals SET expires_at = ?", past);
    });
    await runDurableObjectAlarm(roomStub(fixture.chatId));
    await socket.until(
      (s) => s.of("message").some((m) => m.author.type === "system" && m.text.includes("keeps waiting")),
      "the waiting notice",
    );

    const stop = await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/runs/${runId}/stop`);
    expect(stop.status).toBe(200);
    await socket.until(ended, "the stop");
    expect(socket.of("run.finished")[0]).toMatchObject({ runId, stopped: true });
    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(409);
    await runInDurableObject(roomStub(fixture.chatId), (_room, state) => {
      state.storage.sql.exec("UPDATE approvals SET remind_at = ?", past);
    });
    await runDurableObjectAlarm(roomStub(fixture.chatId));
    expect(socket.of("approval.reminder")).toEqual([]);
    expect(await theApproval(fixture)).toMatchObject({ status: "expired", waitingFor: [] });
    expect(await received(prefix)).toEqual([]);
  });
});
