import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ChatRoom } from "../../rooms/chat-room";
import { chatWithMembers, client, connect, expectStatus } from "./helpers";

type RunRow = { run_id: string; run_secret: string; status: string; result_seq: number | null };

function roomOf(chatId: string): DurableObjectStub<ChatRoom> {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}

async function runsOf(chatId: string): Promise<RunRow[]> {
  return runInDurableObject(roomOf(chatId), (_room, state) =>
    state.storage.sql
      .exec<RunRow>("SELECT run_id, run_secret, status, result_seq FROM runs ORDER BY started_at")
      .toArray(),
  );
}

/** A chat with the built-in assistant, and two finished runs of it. */
async function chatWithTwoRuns() {
  const fixture = await chatWithMembers(0);
  const api = client(fixture.admin.token).api;
  const agentAnswer = await api.orgs[":orgId"].agents.$post({
    param: { orgId: fixture.orgId },
    json: { name: "Assistant", handle: "assistant" },
  });
  const agent = await (await expectStatus(agentAnswer, 201)).json();
  await expectStatus(
    await api.chats[":chatId"].agents.$post({ param: { chatId: fixture.chatId }, json: { agentId: agent.id } }),
    201,
  );
  const socket = await connect(fixture.chatId, fixture.admin.token);
  socket.send({ type: "message", text: "@assistant one", clientMessageId: "one" });
  await socket.until((s) => s.of("run.finished").length === 1, "the first run");
  socket.send({ type: "message", text: "@assistant two", clientMessageId: "two" });
  await socket.until((s) => s.of("run.finished").length === 2, "the second run");
  return { fixture, socket, runs: await runsOf(fixture.chatId) };
}

describe("the run capability", () => {
  it("a run is reached only with its own secret: a wrong one, or another run's, is refused", async () => {
    const { fixture, runs } = await chatWithTwoRuns();
    const [first, second] = runs;
    expect(first.run_secret).toMatch(/^[0-9a-f]{64}$/);
    expect(first.run_secret).not.toBe(second.run_secret);
    const room = roomOf(fixture.chatId);
    expect(await room.openRun(first.run_id, "0".repeat(64))).toBeNull();
    expect(await room.openRun(second.run_id, first.run_secret)).toBeNull();
    expect(await room.openRun(crypto.randomUUID(), first.run_secret)).toBeNull();
    expect(await room.openRun(first.run_id, first.run_secret)).not.toBeNull();
  });

  it("what a run's capability does is about that run alone, and an ended run stays ended", async () => {
    const { fixture, socket, runs } = await chatWithTwoRuns();
    const [first, second] = runs;
    const capability = await roomOf(fixture.chatId).openRun(first.run_id, first.run_secret);
    if (!capability) throw new Error("the run's own secret must open it");
    // Ending it again answers with the reply already stored; nothing new is stored or broadcast.
    expect(await capability.finish("a second reply")).toEqual({ seq: first.result_seq });
    expect(await capability.fail("a late failure")).toEqual({ seq: first.result_seq });
    await capability.delta("more text", 0);
    const context = await capability.context({ maxMessages: 50, maxChars: 10_000 });
    expect(context.messages.at(-1)?.text).toBe("@assistant one");
    const after = await runsOf(fixture.chatId);
    expect(after).toEqual(runs);
    expect(second.status).toBe("finished");
    socket.send({ type: "message", text: "marker", clientMessageId: "marker" });
    await socket.until((s) => s.of("message").some((m) => m.text === "marker"), "the marker");
    expect(socket.of("message").map((m) => m.text)).not.toContain("a second reply");
    expect(socket.of("run.delta").some((d) => d.text === "more text")).toBe(false);
  });
});
