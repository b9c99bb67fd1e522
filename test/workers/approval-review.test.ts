/**
 * Review of quorum approvals (issue 14): votes that race, voters who lose their right after the request (removed from
 * the chat, demoted), and a run whose `wait` approval outlived its expiry that must still stop. Real rooms, the
 * built-in model asking for a POST to the test service, votes over the socket and REST.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  addOpsAgent,
  approvals,
  askApproval,
  backdate,
  ended,
  moveTimes,
  notices,
  pendingApproval,
  received,
  roomStub,
  setRole,
  vote,
} from "./approval-fixtures";
import { api, chatWithMembers, connect, unique } from "./helpers";

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
    const [decided] = await approvals(fixture);
    expect(decided).toMatchObject({ status: "approved" });
    expect(decided.votes).toHaveLength(2);
    expect(await received(prefix)).toHaveLength(1);
  });

  it("a member removed from the chat after voting no longer counts toward the quorum", async () => {
    const fixture = await chatWithMembers(2);
    const [ana, bo] = fixture.members;
    const prefix = `/${unique("removed")}`;
    const { socket, approvalId } = await pendingApproval(fixture, prefix, { approvers: "members", quorum: 2 });
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
    expect((await setRole(fixture, ana.userId, "admin")).status).toBe(201);
    await addOpsAgent(fixture, prefix, { approvers: "admins" });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    const anaSocket = await connect(fixture.chatId, ana.token);
    const { approvalId } = await askApproval(socket, prefix);
    expect((await setRole(fixture, ana.userId, "member")).status).toBe(201);
    anaSocket.send({ type: "approval", approvalId, decision: "approve" });
    await anaSocket.until((s) => s.of("error").length === 1, "the refusal");
    expect(anaSocket.of("error")[0]).toMatchObject({ code: "forbidden" });
    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(403);
    expect((await approvals(fixture))[0]).toMatchObject({ status: "pending", votes: [] });
    expect(await received(prefix)).toEqual([]);
  });

  it("an admin demoted after voting no longer counts toward an admins quorum; made admin again, they do", async () => {
    const fixture = await chatWithMembers(2);
    const [ana, bo] = fixture.members;
    const prefix = `/${unique("demotedvote")}`;
    expect((await setRole(fixture, ana.userId, "admin")).status).toBe(201);
    expect((await setRole(fixture, bo.userId, "admin")).status).toBe(201);
    const { socket, approvalId } = await pendingApproval(fixture, prefix, { approvers: "admins", quorum: 2 });
    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(200);
    expect((await setRole(fixture, ana.userId, "member")).status).toBe(201);
    const byBo = await vote(bo.token, fixture, approvalId, "approve");
    expect(byBo.status).toBe(200);
    expect(byBo.body.approval.status).toBe("pending");
    await socket.until((s) => s.of("approval.vote").length === 2, "bo's vote");
    expect(socket.of("approval.vote")[1]).toMatchObject({ by: bo.userId, votes: 1, needed: 2 });
    expect(await received(prefix)).toEqual([]);

    // Made admin again, her vote counts again: with Bo's it meets the quorum, and the room decides at once (nobody
    // can vote twice, so waiting for another vote could leave it pending at 2 of 2).
    expect((await setRole(fixture, ana.userId, "admin")).status).toBe(201);
    await socket.until(ended, "the run");
    expect(socket.of("approval.decided")).toEqual([expect.objectContaining({ decision: "approved", by: ana.userId })]);
    expect((await vote(fixture.admin.token, fixture, approvalId, "approve")).status).toBe(409);
    expect(await received(prefix)).toHaveLength(1);
  });

  it("a vote that arrives after expiry but before the alarm is a 409 and stores nothing; the alarm then expires it", async () => {
    const fixture = await chatWithMembers(1);
    const [ana] = fixture.members;
    const prefix = `/${unique("late")}`;
    const { socket, approvalId } = await pendingApproval(fixture, prefix, {
      approvers: "members",
      quorum: 1,
      timeoutSeconds: 60,
    });
    await backdate(fixture.chatId, ["expires_at"]);
    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(409);
    expect((await approvals(fixture))[0]).toMatchObject({ status: "pending", votes: [] });
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
    const { socket, approvalId, runId } = await pendingApproval(fixture, prefix, {
      approvers: "members",
      quorum: 2,
      timeoutSeconds: 60,
      onExpiry: "wait",
    });
    await moveTimes(fixture.chatId, ["expires_at"]);
    await socket.until((s) => notices(s).some((t) => t.includes("keeps waiting")), "the waiting notice");

    const stop = await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/runs/${runId}/stop`);
    expect(stop.status).toBe(200);
    await socket.until(ended, "the stop");
    expect(socket.of("run.finished")[0]).toMatchObject({ runId, stopped: true });
    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(409);
    await moveTimes(fixture.chatId, ["remind_at"]);
    expect(socket.of("approval.reminder")).toEqual([]);
    expect((await approvals(fixture))[0]).toMatchObject({ status: "expired", waitingFor: [] });
    expect(await received(prefix)).toEqual([]);
  });
});
