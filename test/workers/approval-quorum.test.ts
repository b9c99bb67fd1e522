/**
 * Approvals a team can trust: a quorum of different approvers, one denial that ends it, a policy that names its
 * approvers and refuses everyone else, a reminder before expiry, and what expiry does (deny, or keep waiting). Real
 * rooms, the built-in model asking for a POST to the test service, votes over the socket and REST.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Approval } from "../../protocol/agents";
import {
  addOpsAgent,
  approvals,
  askApproval,
  auditedOnce,
  ended,
  moveTimes,
  notices,
  opsAgent,
  pendingApproval,
  received,
  roomStub,
  service,
  vote,
} from "./approval-fixtures";
import { api, chatWithMembers, client, connect, type TestSocket, unique } from "./helpers";

const agentReply = (s: TestSocket) => s.of("message").find((m) => m.author.type === "agent")?.text;

describe("approval policies: quorum, named approvers, reminders and expiry", () => {
  it("a quorum of 2 needs two different approvers: the same member twice is a 409, the second member approves", async () => {
    const fixture = await chatWithMembers(2);
    const [ana, bo] = fixture.members;
    const prefix = `/${unique("quorum")}`;
    const { socket, approvalId } = await pendingApproval(fixture, prefix, { approvers: "members", quorum: 2 });
    expect(socket.of("approval.requested")[0]).toMatchObject({ quorum: 2, onExpiry: "deny", votes: [] });

    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(200);
    await socket.until((s) => s.of("approval.vote").length === 1, "the first vote");
    expect(socket.of("approval.vote")[0]).toEqual({
      type: "approval.vote",
      approvalId,
      by: ana.userId,
      decision: "approve",
      votes: 1,
      needed: 2,
    });
    // Her second vote, over REST or the socket, counts for nothing.
    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(409);
    const anaSocket = await connect(fixture.chatId, ana.token);
    expect(anaSocket.of("approval.requested")[0].votes).toEqual([
      { by: ana.userId, decision: "approve", at: expect.any(String) },
    ]);
    anaSocket.send({ type: "approval", approvalId, decision: "approve" });
    await anaSocket.until((s) => s.of("error").length === 1, "the refusal");
    expect(anaSocket.of("error")[0]).toMatchObject({ code: "conflict" });
    expect(await received(prefix)).toEqual([]);
    const [pending] = await approvals(fixture);
    expect(pending).toMatchObject({ status: "pending", quorum: 2, votes: [{ by: ana.userId, decision: "approve" }] });
    expect(pending.waitingFor?.sort()).toEqual([fixture.admin.userId, bo.userId].sort());

    socket.send({ type: "approval", approvalId, decision: "approve" });
    await socket.until(ended, "the run");
    expect(socket.of("approval.vote").map((v) => [v.by, v.votes])).toEqual([
      [ana.userId, 1],
      [fixture.admin.userId, 2],
    ]);
    expect(socket.of("approval.decided")).toEqual([
      expect.objectContaining({ approvalId, decision: "approved", by: fixture.admin.userId }),
    ]);
    expect(agentReply(socket)).toBe("The request returned 201.");
    expect(await received(prefix)).toHaveLength(1);
    // A vote after the decision is too late.
    expect((await vote(bo.token, fixture, approvalId, "approve")).status).toBe(409);
    const [decided] = await approvals(fixture);
    expect(decided).toMatchObject({ status: "approved", waitingFor: [] });
    expect(decided.votes).toHaveLength(2);
    expect(notices(socket).some((t) => /approved POST .* \(2 of 2 approvals\)/.test(t))).toBe(true);
  });

  it("one denial ends it, whatever approvals came first; a vote after it is a 409", async () => {
    const fixture = await chatWithMembers(2);
    const [ana, bo] = fixture.members;
    const prefix = `/${unique("denial")}`;
    const { socket, approvalId } = await pendingApproval(fixture, prefix, { approvers: "members", quorum: 3 });
    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(200);
    const denied = await vote(bo.token, fixture, approvalId, "deny");
    expect(denied.status).toBe(200);
    expect(denied.body.approval).toMatchObject({ status: "denied", decidedBy: bo.userId });
    await socket.until(ended, "the run");
    expect(socket.of("approval.decided")).toEqual([expect.objectContaining({ decision: "denied", by: bo.userId })]);
    expect(agentReply(socket)).toBe("The request was not sent: it was denied.");
    expect((await vote(fixture.admin.token, fixture, approvalId, "approve")).status).toBe(409);
    expect(await received(prefix)).toEqual([]);
  });

  it("a policy that names its approvers refuses everyone else, the initiator and admins included", async () => {
    const fixture = await chatWithMembers(2);
    const [ana, dana] = fixture.members;
    const prefix = `/${unique("named")}`;
    const { socket, approvalId } = await pendingApproval(fixture, prefix, { approvers: { users: [dana.userId] } });
    socket.send({ type: "approval", approvalId, decision: "approve" });
    await socket.until((s) => s.of("error").length === 1, "the refusal");
    expect(socket.of("error")[0]).toMatchObject({ code: "forbidden" });
    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(403);
    expect((await vote(ana.token, fixture, approvalId, "deny")).status).toBe(403);
    // Refused votes are not stored.
    const [pending] = await approvals(fixture);
    expect(pending).toMatchObject({ status: "pending", votes: [], approvers: { users: [dana.userId] } });
    expect(pending.waitingFor).toEqual([dana.userId]);

    expect((await vote(dana.token, fixture, approvalId, "approve")).status).toBe(200);
    await socket.until(ended, "the run");
    expect(socket.of("approval.decided")).toEqual([expect.objectContaining({ decision: "approved", by: dana.userId })]);
    expect(await received(prefix)).toHaveLength(1);
  });

  it("a policy that cannot be met, or names someone outside the org, is a 400 and stores nothing", async () => {
    const fixture = await chatWithMembers(1);
    const [ana] = fixture.members;
    const prefix = `/${unique("bad")}`;
    const bad = [
      { approvers: "initiator", quorum: 2 },
      { approvers: "members", quorum: 0 },
      { approvers: "members", quorum: 1000 },
      { approvers: { users: [] } },
      { approvers: { users: [ana.userId, ana.userId] } },
      { approvers: { users: [ana.userId] }, quorum: 2 },
      { approvers: { users: [ana.userId, "nobody-here"] } },
      { approvers: "members", onExpiry: "approve" },
      { approvers: { users: [ana.userId], extra: true } },
    ];
    for (const approval of bad) {
      const answer = await opsAgent(fixture, prefix, approval);
      expect(answer.status, JSON.stringify(approval)).toBe(400);
      expect(answer.body.error?.code).toBe("bad_request");
    }
    const stranger = await opsAgent(fixture, prefix, { approvers: { users: [ana.userId, "nobody-here"] } });
    expect(stranger.body.error?.message).toContain("nobody-here");
    const listed = await api<{ agents: unknown[] }>(fixture.admin.token, "GET", `/orgs/${fixture.orgId}/agents`);
    expect(listed.body.agents).toEqual([]);

    // An update is checked the same way, and a refused one changes nothing.
    const agentId = await addOpsAgent(fixture, prefix, { approvers: { users: [ana.userId] } });
    const patch = (approval: object) =>
      api(fixture.admin.token, "PATCH", `/orgs/${fixture.orgId}/agents/${agentId}`, {
        tools: { http: { allow: [{ baseUrl: `${service}${prefix}`, methods: ["POST"] }], approval } },
      });
    expect((await patch({ approvers: { users: ["nobody-here"] } })).status).toBe(400);
    expect((await patch({ approvers: "admins", quorum: 2, onExpiry: "wait" })).status).toBe(200);
    const after = await api<{ agents: { tools: { http: { approval: object } } }[] }>(
      fixture.admin.token,
      "GET",
      `/orgs/${fixture.orgId}/agents`,
    );
    expect(after.body.agents[0].tools.http.approval).toEqual({
      approvers: "admins",
      quorum: 2,
      onExpiry: "wait",
      timeoutSeconds: 600,
    });
  });

  it("before it expires, the members who may still decide get a reminder and the chat a notice", async () => {
    const fixture = await chatWithMembers(2);
    const [ana, bo] = fixture.members;
    const prefix = `/${unique("remind")}`;
    await addOpsAgent(fixture, prefix, { approvers: "members", quorum: 2, timeoutSeconds: 600 });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    const anaSocket = await connect(fixture.chatId, ana.token);
    const boSocket = await connect(fixture.chatId, bo.token);
    const { approvalId } = await askApproval(socket, prefix);
    const requested = socket.of("approval.requested")[0];
    anaSocket.send({ type: "approval", approvalId, decision: "approve" });
    await socket.until((s) => s.of("approval.vote").length === 1, "the vote");

    await moveTimes(fixture.chatId, ["remind_at"]);
    await socket.until((s) => s.of("approval.reminder").length === 1, "the reminder");
    await boSocket.until((s) => s.of("approval.reminder").length === 1, "the reminder");
    const reminder = socket.of("approval.reminder")[0];
    expect(reminder).toEqual({
      type: "approval.reminder",
      approvalId,
      expiresAt: requested.expiresAt,
      waitingFor: expect.arrayContaining([fixture.admin.userId, bo.userId]),
    });
    expect(reminder.waitingFor).toHaveLength(2);
    await socket.until((s) => notices(s).some((t) => t.startsWith("Reminder:")), "the notice");
    expect(notices(socket).find((t) => t.startsWith("Reminder:"))).toMatch(/needs 1 more approval before .*Member 1/);
    // Ana voted: she is not reminded (she sees the notice, as everyone does).
    await anaSocket.until((s) => notices(s).some((t) => t.startsWith("Reminder:")), "the notice");
    expect(anaSocket.of("approval.reminder")).toEqual([]);
    // Once only, and it is still pending: the reminder decides nothing.
    await runDurableObjectAlarm(roomStub(fixture.chatId));
    expect(socket.of("approval.reminder")).toHaveLength(1);
    expect((await approvals(fixture))[0].status).toBe("pending");
  });

  it('onExpiry "deny" (the default) ends it expired, with votes short of the quorum', async () => {
    const fixture = await chatWithMembers(1);
    const prefix = `/${unique("deny")}`;
    const { socket, approvalId } = await pendingApproval(fixture, prefix, {
      approvers: "members",
      quorum: 2,
      timeoutSeconds: 60,
    });
    expect((await vote(fixture.admin.token, fixture, approvalId, "approve")).status).toBe(200);
    await moveTimes(fixture.chatId, ["remind_at", "expires_at"]);
    await socket.until(ended, "the run");
    expect(socket.of("approval.decided")).toEqual([expect.objectContaining({ decision: "expired", by: "parlor" })]);
    expect(agentReply(socket)).toBe("The request was not sent: it was expired.");
    expect(socket.of("approval.reminder")).toEqual([]);
    expect((await vote(fixture.members[0].token, fixture, approvalId, "approve")).status).toBe(409);
    expect(await received(prefix)).toEqual([]);
  });

  it('onExpiry "wait" keeps it pending with a notice, and a later quorum still approves it', async () => {
    const fixture = await chatWithMembers(1);
    const [ana] = fixture.members;
    const prefix = `/${unique("wait")}`;
    const { socket, approvalId } = await pendingApproval(fixture, prefix, {
      approvers: "members",
      quorum: 2,
      timeoutSeconds: 60,
      onExpiry: "wait",
    });
    await moveTimes(fixture.chatId, ["expires_at"]);
    await socket.until((s) => notices(s).some((t) => t.includes("keeps waiting")), "the waiting notice");
    expect(socket.of("approval.decided")).toEqual([]);
    // The alarm again says nothing more.
    await runDurableObjectAlarm(roomStub(fixture.chatId));
    expect(notices(socket).filter((t) => t.includes("keeps waiting"))).toHaveLength(1);
    expect((await approvals(fixture))[0]).toMatchObject({ status: "pending", onExpiry: "wait" });

    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(200);
    expect((await vote(fixture.admin.token, fixture, approvalId, "approve")).status).toBe(200);
    await socket.until(ended, "the run");
    expect(socket.of("approval.decided")).toEqual([expect.objectContaining({ decision: "approved" })]);
    expect(agentReply(socket)).toBe("The request returned 201.");
    expect(await received(prefix)).toHaveLength(1);
  });

  it('runs parked on a "wait" approval past its expiry free their run slots; a decision still resumes them', async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("slots")}`;
    await addOpsAgent(fixture, prefix, { approvers: "members", timeoutSeconds: 60, onExpiry: "wait" });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    const ask = (n: number) =>
      socket.send({ type: "message", text: `@ops POST ${service}${prefix}/${n} {}`, clientMessageId: unique("s") });
    // The chat's ten run slots, each run waiting for a decision.
    for (let n = 0; n < 10; n++) ask(n);
    await socket.until((s) => s.of("approval.requested").length === 10, "ten approval requests");
    ask(10);
    await socket.until((s) => s.of("error").some((e) => e.code === "rate_limited"), "the eleventh run refused");
    expect(socket.of("approval.requested")).toHaveLength(10);

    // Past their expiry they keep waiting, and no longer hold a slot.
    await moveTimes(fixture.chatId, ["expires_at"]);
    await socket.until((s) => notices(s).filter((t) => t.includes("keeps waiting")).length === 10, "the notices");
    ask(11);
    await socket.until((s) => s.of("approval.requested").length === 11, "a new run's request");

    const parked = socket.of("approval.requested")[0];
    expect((await vote(fixture.admin.token, fixture, parked.approvalId, "approve")).status).toBe(200);
    await socket.until((s) => s.of("run.finished").length === 1, "the parked run, resumed");
    expect((await received(prefix)).map((r) => r.path)).toEqual([new URL(parked.url).pathname]);
  }, 60_000);

  it("stopping a run that waits for a decision expires its approval for everyone and in the audit log", async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("stopped")}`;
    const { socket, approvalId, runId } = await pendingApproval(fixture, prefix, { approvers: "members" });
    const stopped = await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/runs/${runId}/stop`);
    expect(stopped.status).toBe(200);
    await socket.until((s) => s.of("approval.decided").length === 1, "the approval closed");
    expect(socket.of("approval.decided")[0]).toMatchObject({ approvalId, runId, decision: "expired", by: "parlor" });
    expect((await approvals(fixture))[0]).toMatchObject({ approvalId, status: "expired" });
    expect((await vote(fixture.admin.token, fixture, approvalId, "approve")).status).toBe(409);
    const entries = await auditedOnce(fixture, "approval.expired", "the expiry's audit entry");
    expect(entries[0]).toMatchObject({
      actor: { type: "system", id: "parlor" },
      target: expect.stringMatching(new RegExp(`^approval:${approvalId} .* run_stopped$`)),
    });
    expect(await received(prefix)).toEqual([]);
  });

  it("each vote is audited, and a backup carries the votes into the restored chat", async () => {
    const fixture = await chatWithMembers(1);
    const [ana] = fixture.members;
    const prefix = `/${unique("kept")}`;
    const { approvalId } = await pendingApproval(fixture, prefix, { approvers: "members", quorum: 2 });
    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(200);
    const entries = await auditedOnce(fixture, "approval.voted", "the vote's audit entry");
    expect(entries[0]).toMatchObject({
      actor: { type: "user", id: ana.userId },
      target: expect.stringMatching(new RegExp(`^approval:${approvalId} .* vote=approve votes=1/2$`)),
    });

    const api2 = client(fixture.admin.token).api;
    const backup = await api2.chats[":chatId"].backups.$post({ param: { chatId: fixture.chatId } });
    expect(backup.status).toBe(201);
    const { backup: made } = (await backup.json()) as { backup: { id: string } };
    const restored = await api2.orgs[":orgId"].chats.restore.$post({
      param: { orgId: fixture.orgId },
      json: { chatId: fixture.chatId, backupId: made.id },
    });
    expect(restored.status).toBe(201);
    const { id } = (await restored.json()) as { id: string };
    const copy = await api<{ approvals: Approval[] }>(fixture.admin.token, "GET", `/chats/${id}/approvals`);
    expect(copy.body.approvals).toEqual([
      expect.objectContaining({
        approvalId,
        status: "expired",
        quorum: 2,
        votes: [{ by: ana.userId, decision: "approve", at: expect.any(String) }],
      }),
    ]);
  });
});
