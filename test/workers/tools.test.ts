import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ChatRoom } from "../../rooms/chat-room";
import { api, type ChatFixture, chatWithMembers, connect, type TestSocket, unique } from "./helpers";

const service = (env as unknown as { TEST_SERVICE_URL: string }).TEST_SERVICE_URL;
type Recorded = { method: string; path: string; body: string; headers: Record<string, string> };

async function received(prefix: string): Promise<Recorded[]> {
  const response = await fetch(`${service}/__requests?prefix=${encodeURIComponent(prefix)}`);
  return ((await response.json()) as { requests: Recorded[] }).requests;
}

function roomStub(chatId: string): DurableObjectStub<ChatRoom> {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}

/** An agent on the built-in model with the HTTP and history tools, allowed to reach this test's own path. */
async function opsAgent(fixture: ChatFixture, prefix: string, approval?: object): Promise<string> {
  const created = await api<{ id: string }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/agents`, {
    name: "Ops",
    handle: "ops",
    tools: {
      http: {
        allow: [{ baseUrl: `${service}${prefix}`, methods: ["GET", "POST", "DELETE"] }],
        headers: { Authorization: "Bearer service-secret" },
        ...(approval ? { approval } : {}),
      },
      history: {},
    },
  });
  expect(created.status).toBe(201);
  await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/agents`, { agentId: created.body.id });
  return created.body.id;
}

const ended = (s: TestSocket) => s.of("run.finished").length + s.of("run.failed").length > 0;
const agentReply = (s: TestSocket) => s.of("message").find((m) => m.author.type === "agent");

describe("tools", () => {
  it("a GET runs at once, and its response comes back as an artifact the reply cites", async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("get")}`;
    await opsAgent(fixture, prefix);
    const socket = await connect(fixture.chatId, fixture.admin.token);
    socket.send({ type: "message", text: `@ops GET ${service}${prefix}/items`, clientMessageId: "g" });
    await socket.until(ended, "the run");
    expect(socket.of("approval.requested")).toEqual([]);
    expect(socket.of("run.tool").map((t) => t.status)).toEqual(["running", "done"]);
    const reply = agentReply(socket);
    expect(reply?.text).toBe("The request returned 200.");
    expect(reply?.artifactIds).toHaveLength(1);
    const artifact = await api<{ artifact: { status: number; body: string; truncated: boolean; kind: string } }>(
      fixture.admin.token,
      "GET",
      `/chats/${fixture.chatId}/artifacts/${reply?.artifactIds?.[0]}`,
    );
    expect(artifact.body.artifact).toMatchObject({ kind: "http_response", status: 200, truncated: false });
    expect(JSON.parse(artifact.body.artifact.body)).toEqual({ items: ["alpha", "beta"] });
    const requests = await received(prefix);
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${prefix}/items`]);
    expect(requests[0].headers.authorization).toBe("Bearer service-secret");
  });

  it("a POST does not run before approval, runs exactly once after it, and the decision is stored with who made it", async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("post")}`;
    await opsAgent(fixture, prefix);
    const socket = await connect(fixture.chatId, fixture.admin.token);
    socket.send({ type: "message", text: `@ops POST ${service}${prefix}/items {"a":1}`, clientMessageId: "p" });
    await socket.until((s) => s.of("approval.requested").length === 1, "the approval request");
    const [request] = socket.of("approval.requested");
    expect(request).toMatchObject({
      method: "POST",
      url: `${service}${prefix}/items`,
      body: '{"a":1}',
      headers: { Authorization: "[secret:AGENT_OPS_AUTHORIZATION]" },
    });
    expect(JSON.stringify(socket.events)).not.toContain("service-secret");
    expect(await received(prefix)).toEqual([]);
    const pending = await api<{ approvals: { approvalId: string }[] }>(
      fixture.admin.token,
      "GET",
      `/chats/${fixture.chatId}/approvals?status=pending`,
    );
    expect(pending.body.approvals.map((a) => a.approvalId)).toEqual([request.approvalId]);

    socket.send({ type: "approval", approvalId: request.approvalId, decision: "approve" });
    await socket.until(ended, "the run");
    expect(socket.of("approval.decided")).toEqual([
      expect.objectContaining({ approvalId: request.approvalId, decision: "approved", by: fixture.admin.userId }),
    ]);
    expect(agentReply(socket)?.text).toBe("The request returned 201.");
    const requests = await received(prefix);
    expect(requests.map((r) => [r.method, r.body])).toEqual([["POST", '{"a":1}']]);
    // A second decision is too late, and changes nothing.
    const late = await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/approvals/${request.approvalId}`, {
      decision: "deny",
    });
    expect(late.status).toBe(409);
    const log = await api<{ messages: { author: { type: string }; text: string }[] }>(
      fixture.admin.token,
      "GET",
      `/chats/${fixture.chatId}/messages`,
    );
    expect(log.body.messages.find((m) => m.author.type === "system")?.text).toMatch(/approved POST/);
    expect(await received(prefix)).toHaveLength(1);
  });

  it("a member outside the approval policy is refused; a denial means the request is never sent", async () => {
    const fixture = await chatWithMembers(1);
    const prefix = `/${unique("deny")}`;
    await opsAgent(fixture, prefix);
    const initiator = await connect(fixture.chatId, fixture.admin.token);
    const other = await connect(fixture.chatId, fixture.members[0].token);
    initiator.send({ type: "message", text: `@ops DELETE ${service}${prefix}/items/7`, clientMessageId: "d" });
    await other.until((s) => s.of("approval.requested").length === 1, "the approval request");
    const [request] = other.of("approval.requested");
    other.send({ type: "approval", approvalId: request.approvalId, decision: "approve" });
    await other.until((s) => s.of("error").length === 1, "the refusal");
    expect(other.of("error")[0]).toMatchObject({ code: "forbidden" });
    const viaRest = await api(
      fixture.members[0].token,
      "POST",
      `/chats/${fixture.chatId}/approvals/${request.approvalId}`,
      {
        decision: "approve",
      },
    );
    expect(viaRest.status).toBe(403);
    expect(await received(prefix)).toEqual([]);
    const denied = await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/approvals/${request.approvalId}`, {
      decision: "deny",
    });
    expect(denied.status).toBe(200);
    await initiator.until(ended, "the run");
    expect(agentReply(initiator)?.text).toBe("The request was not sent: it was denied.");
    expect(await received(prefix)).toEqual([]);
  });

  it("an approval nobody decides in time expires, which denies", async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("expire")}`;
    await opsAgent(fixture, prefix, { approvers: "members", timeoutSeconds: 60 });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    socket.send({ type: "message", text: `@ops POST ${service}${prefix}/x {}`, clientMessageId: "e" });
    await socket.until((s) => s.of("approval.requested").length === 1, "the approval request");
    const room = roomStub(fixture.chatId);
    await runInDurableObject(room, (_r, state) => {
      state.storage.sql.exec("UPDATE approvals SET expires_at = ?", new Date(Date.now() - 1000).toISOString());
    });
    await runDurableObjectAlarm(room);
    await socket.until(ended, "the run");
    expect(socket.of("approval.decided")[0]).toMatchObject({ decision: "expired" });
    expect(agentReply(socket)?.text).toBe("The request was not sent: it was expired.");
    expect(await received(prefix)).toEqual([]);
  });

  it("a pending approval survives every room and agent being reset, and the run then continues", async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("survive")}`;
    await opsAgent(fixture, prefix);
    const socket = await connect(fixture.chatId, fixture.admin.token);
    socket.send({ type: "message", text: `@ops POST ${service}${prefix}/items {"b":2}`, clientMessageId: "s" });
    await socket.until((s) => s.of("approval.requested").length === 1, "the approval request");
    const [request] = socket.of("approval.requested");
    // Like a restart: every Durable Object loses its memory and its sockets; storage stays.
    await abortAllDurableObjects();
    expect(await received(prefix)).toEqual([]);
    const back = await connect(fixture.chatId, fixture.admin.token);
    // The room forgot the run when it was reset; a newcomer still learns it is in progress and what it waits for.
    expect(back.of("run.snapshot").map((e) => e.runId)).toEqual([request.runId]);
    expect(back.of("approval.requested").map((e) => e.approvalId)).toEqual([request.approvalId]);
    const approved = await api(
      fixture.admin.token,
      "POST",
      `/chats/${fixture.chatId}/approvals/${request.approvalId}`,
      {
        decision: "approve",
      },
    );
    expect(approved.status).toBe(200);
    await back.until(ended, "the run");
    expect(agentReply(back)?.text).toBe("The request returned 201.");
    expect((await received(prefix)).map((r) => r.body)).toEqual(['{"b":2}']);
  });

  it("a request off the allow list is refused without being sent, and a redirect is not followed", async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("allow")}`;
    await opsAgent(fixture, prefix);
    const socket = await connect(fixture.chatId, fixture.admin.token);
    socket.send({ type: "message", text: `@ops GET ${service}/elsewhere${prefix}`, clientMessageId: "a" });
    await socket.until(ended, "the run");
    expect(socket.of("run.tool").at(-1)).toMatchObject({ status: "failed" });
    expect(agentReply(socket)?.text).toMatch(/^The request failed: .*allow list/);
    expect(await received(`/elsewhere${prefix}`)).toEqual([]);

    socket.send({ type: "message", text: `@ops GET ${service}${prefix}/redirect`, clientMessageId: "r" });
    await socket.until((s) => s.of("run.finished").length === 2, "the second run");
    const second = socket.of("run.finished")[1];
    const redirectReply = socket.of("message").find((m) => m.seq === second.seq);
    expect(redirectReply?.author.type).toBe("agent");
    expect(redirectReply?.text).toBe("The request returned 302.");
    // Not followed: the tool's result is the 302 itself (its Location is a metadata address), asked for once.
    const artifact = await api<{ artifact: { status: number } }>(
      fixture.admin.token,
      "GET",
      `/chats/${fixture.chatId}/artifacts/${redirectReply?.artifactIds?.[0]}`,
    );
    expect(artifact.body.artifact.status).toBe(302);
    expect((await received(prefix)).map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${prefix}/redirect`]);
  });

  it("the history tool searches this chat only", async () => {
    const fixture = await chatWithMembers(0);
    const other = await chatWithMembers(0);
    await api(other.admin.token, "POST", `/chats/${other.chatId}/messages`, {
      text: "deploy elsewhere",
      clientMessageId: "x",
    });
    await opsAgent(fixture, `/${unique("hist")}`);
    for (const [n, text] of ["we deploy on Fridays", "lunch?", "deploy went fine"].entries()) {
      await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/messages`, { text, clientMessageId: `h${n}` });
    }
    const socket = await connect(fixture.chatId, fixture.admin.token);
    socket.send({ type: "message", text: "@ops history: deploy", clientMessageId: "q" });
    await socket.until(ended, "the run");
    expect(agentReply(socket)?.text).toMatch(/^I found 2 earlier messages mentioning "deploy"/);
    expect(agentReply(socket)?.text).not.toContain("elsewhere");
  });

  it("an admins-only approval follows the decider's current org role, even on a socket opened before it changed", async () => {
    const fixture = await chatWithMembers(1);
    const prefix = `/${unique("admins")}`;
    await opsAgent(fixture, prefix, { approvers: "admins", timeoutSeconds: 600 });
    const [member] = fixture.members;
    const admin = await connect(fixture.chatId, fixture.admin.token);
    const other = await connect(fixture.chatId, member.token);
    admin.send({ type: "message", text: `@ops POST ${service}${prefix}/x {}`, clientMessageId: "a" });
    await other.until((s) => s.of("approval.requested").length === 1, "the approval request");
    const [request] = other.of("approval.requested");
    other.send({ type: "approval", approvalId: request.approvalId, decision: "approve" });
    await other.until((s) => s.of("error").length === 1, "the refusal");
    expect(other.of("error")[0]).toMatchObject({ code: "forbidden" });
    // Promoted while the socket stays open: the same socket may now decide.
    await api(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/members`, { userId: member.userId, role: "admin" });
    other.send({ type: "approval", approvalId: request.approvalId, decision: "approve" });
    await admin.until(ended, "the run");
    expect(admin.of("approval.decided")[0]).toMatchObject({ decision: "approved", by: member.userId });
    expect(await received(prefix)).toHaveLength(1);
  });
});
