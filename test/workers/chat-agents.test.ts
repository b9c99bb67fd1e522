import { describe, expect, it } from "vitest";
import {
  type ChatFixture,
  chatWithMembers,
  client,
  connect,
  expectStatus,
  type TestSocket,
  tokenFor,
  unique,
} from "./helpers";

/** An agent of the fixture's org on the built-in model at full speed, sitting in each of `chatIds`. */
async function agentIn(
  fixture: ChatFixture,
  chatIds: string[],
  spec: { handle: string; trigger?: "mention" | "always" },
): Promise<string> {
  const asAdmin = client(fixture.admin.token).api;
  const created = await expectStatus(
    await asAdmin.orgs[":orgId"].agents.$post({
      param: { orgId: fixture.orgId },
      json: { name: `Agent ${spec.handle}`, handle: spec.handle, model: "parlor-local:0", trigger: spec.trigger },
    }),
    201,
  );
  const { id } = await created.json();
  for (const chatId of chatIds) {
    await expectStatus(await asAdmin.chats[":chatId"].agents.$post({ param: { chatId }, json: { agentId: id } }), 201);
  }
  return id;
}

async function secondChat(fixture: ChatFixture): Promise<string> {
  const asAdmin = client(fixture.admin.token).api;
  const chat = await expectStatus(
    await asAdmin.orgs[":orgId"].chats.$post({ param: { orgId: fixture.orgId }, json: { title: "second" } }),
    201,
  );
  const chatId = (await chat.json()).id;
  for (const member of fixture.members) {
    await expectStatus(
      await asAdmin.chats[":chatId"].members.$post({ param: { chatId }, json: { userId: member.userId } }),
      201,
    );
  }
  return chatId;
}

async function chatAgentHandles(token: string, chatId: string): Promise<string[]> {
  const listed = await expectStatus(await client(token).api.chats[":chatId"].agents.$get({ param: { chatId } }), 200);
  return (await listed.json()).agents.map((a) => a.handle);
}

/**
 * Sends `text`, then a marker, and returns the runs `text` started. A message's runs start (and are announced)
 * before the room takes the next message, so once the marker is back, every run the first one woke is known.
 */
async function runsWokenBy(socket: TestSocket, text: string): Promise<string[]> {
  const known = new Set(socket.of("run.started").map((r) => r.runId));
  const id = unique("c");
  socket.send({ type: "message", text, clientMessageId: id });
  socket.send({ type: "message", text: "marker", clientMessageId: `${id}-marker` });
  await socket.until((s) => s.of("message").some((m) => m.clientMessageId === `${id}-marker`), "the marker");
  const sent = socket.of("message").find((m) => m.clientMessageId === id);
  return socket
    .of("run.started")
    .filter((r) => !known.has(r.runId) && r.triggerSeq === sent?.seq)
    .map((r) => r.agentId);
}

const allEnded = (socket: TestSocket) =>
  socket.of("run.started").length === socket.of("run.finished").length + socket.of("run.failed").length;

describe("agents leaving chats", () => {
  it("an agent removed from a chat no longer wakes there, and stays in the org and its other chats", async () => {
    const fixture = await chatWithMembers(1);
    const [member] = fixture.members;
    const otherChatId = await secondChat(fixture);
    const agentId = await agentIn(fixture, [fixture.chatId, otherChatId], { handle: "helper" });
    const here = await connect(fixture.chatId, member.token);
    const there = await connect(otherChatId, member.token);
    expect(await runsWokenBy(here, "@helper are you there?")).toEqual([agentId]);
    await here.until(allEnded, "the run to end");

    // Any member of the chat may take an agent out of it; outsiders may not.
    const colleague = unique("colleague");
    await expectStatus(
      await client(fixture.admin.token).api.orgs[":orgId"].members.$post({
        param: { orgId: fixture.orgId },
        json: { userId: colleague, role: "member" },
      }),
      201,
    );
    const remove = (token: string) =>
      client(token).api.chats[":chatId"].agents.$delete({ param: { chatId: fixture.chatId }, json: { agentId } });
    expect((await remove(await tokenFor(colleague))).status).toBe(403);
    expect((await remove(await tokenFor(unique("outsider")))).status).toBe(404);
    expect(await chatAgentHandles(member.token, fixture.chatId)).toEqual(["helper"]);
    const removed = await expectStatus(await remove(member.token), 200);
    expect(await removed.json()).toEqual({ removed: { agentId } });
    expect((await remove(member.token)).status).toBe(200);

    expect(await chatAgentHandles(member.token, fixture.chatId)).toEqual([]);
    expect(await runsWokenBy(here, "@helper hello again?")).toEqual([]);
    expect(await chatAgentHandles(member.token, otherChatId)).toEqual(["helper"]);
    expect(await runsWokenBy(there, "@helper and here?")).toEqual([agentId]);
    const orgAgents = await client(member.token).api.orgs[":orgId"].agents.$get({ param: { orgId: fixture.orgId } });
    expect((await orgAgents.json()).agents.map((a) => a.id)).toEqual([agentId]);
  });

  it("a deleted agent leaves every chat and wakes nowhere; only an org admin deletes one", async () => {
    const fixture = await chatWithMembers(1);
    const [member] = fixture.members;
    const otherChatId = await secondChat(fixture);
    // An agent that answers every message: any message at all would wake it.
    const agentId = await agentIn(fixture, [fixture.chatId, otherChatId], { handle: "scribe", trigger: "always" });
    const keeper = await agentIn(fixture, [fixture.chatId], { handle: "keeper" });
    const sockets = [await connect(fixture.chatId, member.token), await connect(otherChatId, member.token)];
    for (const socket of sockets) {
      expect(await runsWokenBy(socket, "hello")).toEqual([agentId]);
      await socket.until(allEnded, "the run to end");
    }

    const remove = (token: string) =>
      client(token).api.orgs[":orgId"].agents[":agentId"].$delete({ param: { orgId: fixture.orgId, agentId } });
    expect((await remove(member.token)).status).toBe(403);
    expect((await remove(await tokenFor(unique("outsider")))).status).toBe(404);
    const deleted = await expectStatus(await remove(fixture.admin.token), 200);
    expect(await deleted.json()).toEqual({ removed: { agentId } });
    expect((await remove(fixture.admin.token)).status).toBe(404);

    const orgAgents = await client(member.token).api.orgs[":orgId"].agents.$get({ param: { orgId: fixture.orgId } });
    expect((await orgAgents.json()).agents.map((a) => a.id)).toEqual([keeper]);
    expect(await chatAgentHandles(member.token, fixture.chatId)).toEqual(["keeper"]);
    expect(await chatAgentHandles(member.token, otherChatId)).toEqual([]);
    for (const socket of sockets) expect(await runsWokenBy(socket, "hello again")).toEqual([]);
    // The agent that stays still answers.
    expect(await runsWokenBy(sockets[0], "@keeper @scribe anyone?")).toEqual([keeper]);
  });
});
