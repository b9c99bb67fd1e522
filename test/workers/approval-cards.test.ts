/**
 * What a client needs to draw an approval card in place and a run's stop button for the right people: where the
 * request sits in the conversation (`afterSeq`), the room's own count of the votes that still count (`counted`, sent
 * again when a voter's right changes), and who started a run (`initiator` on `run.started` and `run.snapshot`).
 * Real rooms, the built-in model asking for a POST to the test service.
 */
import { describe, expect, it } from "vitest";
import { addOpsAgent, approvals, askApproval, pendingApproval, setRole, vote } from "./approval-fixtures";
import { api, chatWithMembers, connect, type TestSocket, unique } from "./helpers";

function say(socket: TestSocket, text: string): void {
  socket.send({ type: "message", text, clientMessageId: unique("m") });
}

/**
 * Ana, made an admin, approves a request that needs two admins, then is made a member again: her vote no longer
 * counts, and the room sends the request again (the recount).
 */
async function demotedAfterVoting(name: string) {
  const fixture = await chatWithMembers(1);
  const [ana] = fixture.members;
  const prefix = `/${unique(name)}`;
  expect((await setRole(fixture, ana.userId, "admin")).status).toBe(201);
  const { socket, approvalId } = await pendingApproval(fixture, prefix, { approvers: "admins", quorum: 2 });
  expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(200);
  expect((await setRole(fixture, ana.userId, "member")).status).toBe(201);
  await socket.until((s) => s.of("approval.requested").length === 2, "the recount");
  return { fixture, ana, socket, approvalId };
}

describe("approval cards and run controls: what the room tells a client", () => {
  it("an approval says where it belongs: after the chat's last message when the agent asked, live and later", async () => {
    const fixture = await chatWithMembers(1);
    const prefix = `/${unique("placed")}`;
    await addOpsAgent(fixture, prefix, { approvers: "members" });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    say(socket, "first");
    say(socket, "second");
    await socket.until((s) => s.of("message").length === 2, "two messages");
    await askApproval(socket, prefix);
    const [requested] = socket.of("approval.requested");
    expect(requested).toMatchObject({ afterSeq: 3, counted: 0, votes: [] });

    const [listed] = await approvals(fixture);
    expect(listed).toMatchObject({ approvalId: requested.approvalId, afterSeq: 3, counted: 0 });
    // A member who opens the chat later gets the same place.
    const late = await connect(fixture.chatId, fixture.members[0].token);
    expect(late.of("approval.requested")).toEqual([expect.objectContaining({ afterSeq: 3 })]);
    // Messages written while it waits do not move it.
    say(socket, "meanwhile");
    await socket.until((s) => s.of("message").length === 4, "the fourth message");
    expect((await approvals(fixture))[0].afterSeq).toBe(3);
    // The first test of a file also pays for the workers' cold start.
  }, 60_000);

  it("a voter removed from the chat: the request is sent again with the room's lower count, as GET says", async () => {
    const fixture = await chatWithMembers(2);
    const [ana] = fixture.members;
    const prefix = `/${unique("recount")}`;
    const { socket, approvalId } = await pendingApproval(fixture, prefix, { approvers: "members", quorum: 2 });
    expect((await vote(ana.token, fixture, approvalId, "approve")).status).toBe(200);
    await socket.until((s) => s.of("approval.vote").length === 1, "ana's vote");
    expect(socket.of("approval.vote")[0]).toMatchObject({ votes: 1, needed: 2 });
    expect((await approvals(fixture))[0]).toMatchObject({ counted: 1 });

    const removed = await api(fixture.admin.token, "DELETE", `/chats/${fixture.chatId}/members`, {
      userId: ana.userId,
    });
    expect(removed.status).toBe(200);
    await socket.until((s) => s.of("approval.requested").length === 2, "the recount");
    expect(socket.of("approval.requested")[1]).toMatchObject({ approvalId, counted: 0, quorum: 2 });
    expect(socket.of("approval.requested")[1].votes).toHaveLength(1);
    expect((await approvals(fixture))[0]).toMatchObject({ status: "pending", counted: 0 });
  });

  it("an admin demoted after voting under an admins policy: sent again with the vote no longer counted", async () => {
    const { fixture, socket } = await demotedAfterVoting("demote");
    expect(socket.of("approval.requested")[1]).toMatchObject({ counted: 0 });
    expect((await approvals(fixture))[0]).toMatchObject({ counted: 0 });
  });

  it("a vote that counts again and completes the quorum decides the approval (nobody can vote twice)", async () => {
    const { fixture, ana, socket, approvalId } = await demotedAfterVoting("recounted");
    expect((await vote(fixture.admin.token, fixture, approvalId, "approve")).status).toBe(200);
    expect((await approvals(fixture))[0]).toMatchObject({ status: "pending", counted: 1 });

    expect((await setRole(fixture, ana.userId, "admin")).status).toBe(201);
    await socket.until((s) => s.of("approval.decided").length === 1, "the decision");
    expect(socket.of("approval.decided")[0]).toMatchObject({ approvalId, decision: "approved", by: ana.userId });
    expect((await approvals(fixture))[0]).toMatchObject({ status: "approved", counted: 2 });
    await socket.until((s) => s.of("run.finished").length === 1, "the run");
  });

  it("run.started and a mid-run snapshot name the member who started the run", async () => {
    const fixture = await chatWithMembers(1);
    const [ana] = fixture.members;
    const prefix = `/${unique("initiator")}`;
    await addOpsAgent(fixture, prefix, { approvers: "members" });
    const anaSocket = await connect(fixture.chatId, ana.token);
    await askApproval(anaSocket, prefix);
    expect(anaSocket.of("run.started")).toEqual([expect.objectContaining({ initiator: ana.userId })]);
    const late = await connect(fixture.chatId, fixture.admin.token);
    expect(late.of("run.snapshot")).toEqual([expect.objectContaining({ initiator: ana.userId })]);
  });
});
