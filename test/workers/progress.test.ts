import { env } from "cloudflare:workers";
import { getServerByName } from "partyserver";
import { describe, expect, it } from "vitest";
import type { ChatProgress } from "../../rooms/chat-progress";
import { api, call, chatWithMembers, connect, eventually, tokenFor, unique } from "./helpers";

const service = (env as unknown as { TEST_SERVICE_URL: string }).TEST_SERVICE_URL;

async function progressOf(chatId: string) {
  const stub = await getServerByName(env.ChatProgress as DurableObjectNamespace<ChatProgress>, chatId);
  return stub.snapshot();
}

describe("live progress (Yjs)", () => {
  it("shows a run's tool waiting for approval, then done, and the socket to it is for members only", async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("progress")}`;
    const agent = await api<{ id: string }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/agents`, {
      name: "Ops",
      handle: "ops",
      tools: { http: { allow: [{ baseUrl: `${service}${prefix}`, methods: ["POST"] }] } },
    });
    await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/agents`, { agentId: agent.body.id });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    socket.send({ type: "message", text: `@ops POST ${service}${prefix}/x {}`, clientMessageId: "p" });
    await socket.until((s) => s.of("approval.requested").length === 1, "the approval request");
    const waiting = await eventually(
      () => progressOf(fixture.chatId),
      (runs) => Object.values(runs).some((r) => r.status === "waiting_approval"),
      "waiting_approval",
    );
    const [run] = Object.values(waiting);
    expect(run).toMatchObject({
      agentId: agent.body.id,
      tools: [{ name: "http_request", status: "waiting_approval" }],
    });
    socket.send({ type: "approval", approvalId: socket.of("approval.requested")[0].approvalId, decision: "approve" });
    const done = await eventually(
      () => progressOf(fixture.chatId),
      (runs) => Object.values(runs).some((r) => r.status === "done"),
      "done",
    );
    expect(Object.values(done)[0].tools).toEqual([expect.objectContaining({ name: "http_request", status: "done" })]);

    const open = (token: string) =>
      call(`/api/chats/${fixture.chatId}/progress?token=${encodeURIComponent(token)}`, {
        headers: { Upgrade: "websocket" },
      });
    const member = await open(fixture.admin.token);
    expect(member.status).toBe(101);
    member.webSocket?.accept();
    member.webSocket?.close();
    expect((await open(await tokenFor(unique("outsider")))).status).toBe(404);
  });
});
