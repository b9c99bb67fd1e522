import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type ChatFixture, chatWithMembers, client, connect, expectStatus, type TestSocket, unique } from "./helpers";

const service = (env as unknown as { TEST_SERVICE_URL: string }).TEST_SERVICE_URL;

async function addAgent(fixture: ChatFixture, json: { name: string; handle: string; model?: string; tools?: object }) {
  const api = client(fixture.admin.token).api;
  const answer = await api.orgs[":orgId"].agents.$post({ param: { orgId: fixture.orgId }, json });
  const agent = await (await expectStatus(answer, 201)).json();
  await expectStatus(
    await api.chats[":chatId"].agents.$post({ param: { chatId: fixture.chatId }, json: { agentId: agent.id } }),
    201,
  );
}

/** A member's message to an agent that streams slowly (one word every 100 ms, for 100 words). */
async function slowRun(socket: TestSocket, clientMessageId: string) {
  socket.send({ type: "message", text: "@slow clock: 100", clientMessageId });
  await socket.until((s) => s.of("run.delta").length > 0, "the first words");
  return socket.of("run.started").at(-1)?.runId as string;
}

function streamedBefore(socket: TestSocket, runId: string, seq: number): string {
  let text = "";
  for (const event of socket.events) {
    if (event.type === "run.finished" && event.seq === seq) break;
    if (event.type === "run.delta" && event.runId === runId) text = text.slice(0, event.index) + event.text;
  }
  return text;
}

const runs = (token: string) => client(token).api.chats[":chatId"].runs[":runId"];

describe("stopping and retrying agent runs", () => {
  it("the initiator stops a run: its reply so far is stored once, marked stopped, and nothing follows it", async () => {
    const fixture = await chatWithMembers(1);
    await addAgent(fixture, { name: "Slow", handle: "slow", model: "parlor-local:100" });
    const member = await connect(fixture.chatId, fixture.members[0].token);
    const runId = await slowRun(member, "slow-1");
    member.send({ type: "stop", runId });
    await member.until((s) => s.of("run.finished").length === 1, "the stop");
    const [finished] = member.of("run.finished");
    expect(finished).toMatchObject({ runId, stopped: true });
    const stored = member.of("message").find((m) => m.seq === finished.seq);
    expect(stored).toMatchObject({ author: { type: "agent" }, stopped: true, runId });
    expect(stored?.text).toBe(streamedBefore(member, runId, finished.seq));
    expect(stored?.text.length).toBeGreaterThan(0);

    // Stopping it again is a conflict, by frame and by REST; the log does not change.
    member.send({ type: "stop", runId });
    await member.until((s) => s.of("error").length === 1, "the refusal");
    expect(member.of("error")[0]).toMatchObject({ code: "conflict" });
    const again = await runs(fixture.members[0].token).stop.$post({ param: { chatId: fixture.chatId, runId } });
    expect(again.status).toBe(409);
    member.send({ type: "message", text: "marker", clientMessageId: "marker" });
    await member.until((s) => s.of("message").some((m) => m.text === "marker"), "the marker");
    expect(
      member
        .of("run.delta")
        .filter((d) => d.runId === runId)
        .at(-1)?.index ?? 0,
    ).toBeLessThan(stored?.text.length ?? 0);
    expect(member.of("message").filter((m) => m.runId === runId)).toHaveLength(1);
  });

  it("only the initiator or an org admin may stop a run; others get 403", async () => {
    const fixture = await chatWithMembers(2);
    await addAgent(fixture, { name: "Slow", handle: "slow", model: "parlor-local:100" });
    const starter = await connect(fixture.chatId, fixture.members[0].token);
    const runId = await slowRun(starter, "slow-2");
    const bystander = await runs(fixture.members[1].token).stop.$post({ param: { chatId: fixture.chatId, runId } });
    expect(bystander.status).toBe(403);
    const byAdmin = await runs(fixture.admin.token).stop.$post({ param: { chatId: fixture.chatId, runId } });
    expect(byAdmin.status).toBe(200);
    expect(await byAdmin.json()).toMatchObject({ runId, stopped: true });
    const unknown = await runs(fixture.admin.token).stop.$post({
      param: { chatId: fixture.chatId, runId: crypto.randomUUID() },
    });
    expect(unknown.status).toBe(404);
  });

  it("a run stopped while it waits for approval stores a notice, and its approval can no longer be decided", async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("stop")}`;
    await addAgent(fixture, {
      name: "Ops",
      handle: "ops",
      tools: { http: { allow: [{ baseUrl: `${service}${prefix}`, methods: ["POST"] }] } },
    });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    socket.send({ type: "message", text: `@ops POST ${service}${prefix}/x {}`, clientMessageId: "ask" });
    await socket.until((s) => s.of("approval.requested").length === 1, "the approval request");
    const [{ runId, approvalId }] = socket.of("approval.requested");
    const stop = await runs(fixture.admin.token).stop.$post({ param: { chatId: fixture.chatId, runId } });
    const { seq } = await (await expectStatus(stop, 200)).json();
    await socket.until((s) => s.of("message").some((m) => m.seq === seq), "the notice");
    expect(socket.of("message").find((m) => m.seq === seq)).toMatchObject({
      author: { type: "system" },
      stopped: true,
      text: expect.stringMatching(/stopped @ops before it wrote anything/),
    });
    socket.send({ type: "approval", approvalId, decision: "approve" });
    await socket.until((s) => s.of("error").length === 1, "the refusal");
    expect(socket.of("error")[0]).toMatchObject({ code: "conflict" });
  });

  it("a stopped run can be retried: a new run for the same message, started by whoever retries", async () => {
    const fixture = await chatWithMembers(1);
    await addAgent(fixture, { name: "Slow", handle: "slow", model: "parlor-local:100" });
    const socket = await connect(fixture.chatId, fixture.members[0].token);
    const runId = await slowRun(socket, "slow-3");
    const triggerSeq = socket.of("run.started")[0].triggerSeq;
    await expectStatus(
      await runs(fixture.members[0].token).stop.$post({ param: { chatId: fixture.chatId, runId } }),
      200,
    );

    const retried = await runs(fixture.admin.token).retry.$post({ param: { chatId: fixture.chatId, runId } });
    const { runId: next } = await (await expectStatus(retried, 201)).json();
    expect(next).not.toBe(runId);
    await socket.until((s) => s.of("run.started").some((r) => r.runId === next), "the new run");
    expect(socket.of("run.started").find((r) => r.runId === next)?.triggerSeq).toBe(triggerSeq);
    // A running run cannot be retried; the admin who retried it may stop it (so may the admin anyway).
    expect(
      (await runs(fixture.admin.token).retry.$post({ param: { chatId: fixture.chatId, runId: next } })).status,
    ).toBe(409);
    await expectStatus(
      await runs(fixture.admin.token).stop.$post({ param: { chatId: fixture.chatId, runId: next } }),
      200,
    );
    // The stopped original can be retried again; a finished run cannot.
    expect((await runs(fixture.admin.token).retry.$post({ param: { chatId: fixture.chatId, runId } })).status).toBe(
      201,
    );
  });

  it("a finished run cannot be retried, and an unknown run is 404", async () => {
    const fixture = await chatWithMembers(0);
    await addAgent(fixture, { name: "Quick", handle: "quick", model: "parlor-local:0" });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    socket.send({ type: "message", text: "@quick hi", clientMessageId: "q" });
    await socket.until((s) => s.of("run.finished").length === 1, "the reply");
    const [{ runId }] = socket.of("run.finished");
    expect((await runs(fixture.admin.token).retry.$post({ param: { chatId: fixture.chatId, runId } })).status).toBe(
      409,
    );
    const unknown = await runs(fixture.admin.token).retry.$post({
      param: { chatId: fixture.chatId, runId: crypto.randomUUID() },
    });
    expect(unknown.status).toBe(404);
  });
});
