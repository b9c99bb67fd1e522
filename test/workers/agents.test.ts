import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { simulateReadableStream } from "ai";
import { MockLanguageModelV4 } from "ai/test";
import { describe, expect, it, vi } from "vitest";
import { registerModel } from "../../agents/models";
import { MAX_REPLY_CHARS } from "../../protocol/agents";
import type { ChatRoom } from "../../rooms/chat-room";
import { RunCapability } from "../../rooms/run-capability";
import { api, type ChatFixture, chatWithMembers, connect, eventually, type TestSocket, unique } from "./helpers";

/** A scripted model that streams `words` with `delayMs` between them, then finishes. */
function scripted(words: string[], delayMs = 5): () => MockLanguageModelV4 {
  const chunks: LanguageModelV4StreamPart[] = [
    { type: "stream-start", warnings: [] },
    { type: "text-start", id: "t" },
    ...words.map((delta): LanguageModelV4StreamPart => ({ type: "text-delta", id: "t", delta })),
    { type: "text-end", id: "t" },
    {
      type: "finish",
      finishReason: { unified: "stop", raw: "stop" },
      usage: {
        inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
        outputTokens: { total: words.length, text: words.length, reasoning: 0 },
      },
    },
  ];
  return () =>
    new MockLanguageModelV4({
      doStream: async () => ({ stream: simulateReadableStream({ chunks, chunkDelayInMs: delayMs }) }),
    });
}

const WORDS = ["Here ", "is ", "a ", "streamed ", "answer ", "in ", "eight ", "parts."];
registerModel("test:words", scripted(WORDS));
registerModel(
  "test:slow",
  scripted(
    Array.from({ length: 40 }, (_, i) => `w${i} `),
    25,
  ),
);
/** Streams one word, then stalls until the test lets it finish (`stalled.mayFinish`): a run the room gives up on. */
const stalled = { mayFinish: false };
registerModel(
  "test:stalled",
  () =>
    new MockLanguageModelV4({
      doStream: async () => ({
        stream: new ReadableStream<LanguageModelV4StreamPart>({
          async start(controller) {
            controller.enqueue({ type: "stream-start", warnings: [] });
            controller.enqueue({ type: "text-start", id: "t" });
            controller.enqueue({ type: "text-delta", id: "t", delta: "one " });
            // The model's own wait, in the agent; the test never sleeps.
            while (!stalled.mayFinish) await new Promise((r) => setTimeout(r, 10));
            controller.enqueue({ type: "text-delta", id: "t", delta: "two three" });
            controller.enqueue({ type: "text-end", id: "t" });
            controller.enqueue({
              type: "finish",
              finishReason: { unified: "stop", raw: "stop" },
              usage: {
                inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
                outputTokens: { total: 3, text: 3, reasoning: 0 },
              },
            });
            controller.close();
          },
        }),
      }),
    }),
);
registerModel("test:broken", () => {
  const chunks: LanguageModelV4StreamPart[] = [
    { type: "stream-start", warnings: [] },
    { type: "text-start", id: "t" },
    { type: "text-delta", id: "t", delta: "Half an " },
    { type: "error", error: new Error("vendor exploded") },
  ];
  return new MockLanguageModelV4({ doStream: async () => ({ stream: simulateReadableStream({ chunks }) }) });
});

async function addAgent(
  fixture: ChatFixture,
  spec: { handle: string; model?: string; trigger?: "mention" | "always"; name?: string },
): Promise<string> {
  const created = await api<{ id: string }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/agents`, {
    name: spec.name ?? `Agent ${spec.handle}`,
    handle: spec.handle,
    systemPrompt: "Be brief.",
    ...(spec.model ? { model: spec.model } : {}),
    trigger: spec.trigger ?? "mention",
  });
  if (created.status !== 201) throw new Error(`agent: ${created.status} ${JSON.stringify(created.body)}`);
  const added = await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/agents`, { agentId: created.body.id });
  if (added.status !== 201) throw new Error(`chat agent: ${added.status} ${JSON.stringify(added.body)}`);
  return created.body.id;
}

function streamedText(socket: TestSocket, runId: string): string {
  let text = "";
  for (const event of socket.events) {
    if (event.type === "run.snapshot" && event.runId === runId) text = event.text;
    if (event.type === "run.delta" && event.runId === runId) {
      expect(event.index, "deltas arrive in order, without gaps").toBe(text.length);
      text += event.text;
    }
  }
  return text;
}

const finished = (socket: TestSocket, count = 1) =>
  socket.of("run.finished").length + socket.of("run.failed").length >= count;

describe("agents in the room", () => {
  it("a mention triggers exactly one run; every socket gets the tokens in order; the stored reply equals them", async () => {
    const fixture = await chatWithMembers(1);
    const agentId = await addAgent(fixture, {
      handle: unique("helper").toLowerCase().slice(0, 30),
      model: "test:words",
    });
    const [handle] = (
      await api<{ agents: { handle: string }[] }>(fixture.admin.token, "GET", `/chats/${fixture.chatId}/agents`)
    ).body.agents;
    const a = await connect(fixture.chatId, fixture.admin.token);
    const b = await connect(fixture.chatId, fixture.members[0].token);
    a.send({ type: "message", text: `@${handle.handle} what now?`, clientMessageId: "q1" });
    for (const s of [a, b]) await s.until((x) => finished(x), "the run to finish");
    for (const s of [a, b]) {
      expect(s.of("run.started")).toHaveLength(1);
      const [started] = s.of("run.started");
      expect(started).toMatchObject({ agentId, triggerSeq: 1 });
      const [done] = s.of("run.finished");
      const reply = s.of("message").find((m) => m.seq === done.seq);
      expect(reply?.author).toEqual({ type: "agent", id: agentId, name: expect.any(String) });
      expect(streamedText(s, started.runId)).toBe(WORDS.join(""));
      expect(reply?.text).toBe(WORDS.join(""));
    }
    const stored = await api<{ messages: { text: string; author: { type: string } }[] }>(
      fixture.admin.token,
      "GET",
      `/chats/${fixture.chatId}/messages`,
    );
    expect(stored.body.messages.map((m) => m.author.type)).toEqual(["user", "agent"]);
  });

  it("an agent's reply triggers no run, even for an agent that answers every message", async () => {
    const fixture = await chatWithMembers(0);
    await addAgent(fixture, { handle: "echo", model: "test:words", trigger: "always" });
    await addAgent(fixture, { handle: "echo2", model: "test:words", trigger: "always" });
    const a = await connect(fixture.chatId, fixture.admin.token);
    a.send({ type: "message", text: "hello agents", clientMessageId: "h" });
    await a.until((s) => finished(s, 2), "both runs to finish");
    a.send({ type: "message", text: "marker", clientMessageId: "m" });
    await a.until((s) => s.of("run.started").length >= 4, "the marker's runs");
    await a.until((s) => finished(s, 4), "the marker's runs to finish");
    // Two runs for "hello agents", two for "marker", none for the four agent replies.
    expect(a.of("run.started").map((r) => r.triggerSeq)).toEqual([1, 1, 4, 4]);
  });

  it("two agents in one room work at once, and the room keeps serving members meanwhile", async () => {
    const fixture = await chatWithMembers(1);
    await addAgent(fixture, { handle: "slowa", model: "test:slow" });
    await addAgent(fixture, { handle: "slowb", model: "test:slow" });
    const a = await connect(fixture.chatId, fixture.admin.token);
    const b = await connect(fixture.chatId, fixture.members[0].token);
    a.send({ type: "message", text: "@slowa and @slowb, go", clientMessageId: "go" });
    await a.until((s) => new Set(s.of("run.delta").map((d) => d.runId)).size === 2, "deltas from both runs");
    expect(finished(a)).toBe(false);
    b.send({ type: "message", text: "meanwhile", clientMessageId: "mw" });
    await a.until((s) => s.of("message").some((m) => m.text === "meanwhile"), "a member's message during the runs");
    expect(finished(a)).toBe(false);
    await a.until((s) => finished(s, 2), "both runs to finish");
    expect(a.of("run.finished")).toHaveLength(2);
  });

  it("a late joiner sees the partial reply once, then the rest", async () => {
    const fixture = await chatWithMembers(1);
    await addAgent(fixture, { handle: "slow", model: "test:slow" });
    const a = await connect(fixture.chatId, fixture.admin.token);
    a.send({ type: "message", text: "@slow tell me", clientMessageId: "t" });
    await a.until((s) => s.of("run.delta").length >= 5, "a few deltas");
    const late = await connect(fixture.chatId, fixture.members[0].token);
    const [snapshot] = late.of("run.snapshot");
    expect(snapshot.text.length).toBeGreaterThan(0);
    await late.until((s) => finished(s), "the end of the run");
    const runId = snapshot.runId;
    const reply = late.of("message").find((m) => m.author.type === "agent");
    expect(streamedText(late, runId)).toBe(reply?.text);
    // After the end, a newcomer gets the stored message and no snapshot.
    const after = await connect(fixture.chatId, fixture.members[0].token);
    expect(after.of("run.snapshot")).toEqual([]);
    expect(after.of("message").map((m) => m.text)).toContain(reply?.text);
  });

  it("a model error ends the run with a stored failure notice, never a half-written reply", async () => {
    const fixture = await chatWithMembers(0);
    await addAgent(fixture, { handle: "broken", model: "test:broken" });
    const a = await connect(fixture.chatId, fixture.admin.token);
    a.send({ type: "message", text: "@broken try", clientMessageId: "b" });
    await a.until((s) => finished(s), "the run to end");
    const [failed] = a.of("run.failed");
    expect(failed.reason).toMatch(/failed/);
    const stored = await api<{ messages: { seq: number; text: string; author: { type: string } }[] }>(
      fixture.admin.token,
      "GET",
      `/chats/${fixture.chatId}/messages`,
    );
    expect(stored.body.messages.map((m) => m.author.type)).toEqual(["user", "system"]);
    expect(stored.body.messages[1]).toMatchObject({
      seq: failed.seq,
      text: expect.stringContaining("@broken could not finish"),
    });
  });

  it("one message wakes at most three agents", async () => {
    const fixture = await chatWithMembers(0);
    for (const handle of ["a1", "a2", "a3", "a4"]) await addAgent(fixture, { handle, model: "test:words" });
    const a = await connect(fixture.chatId, fixture.admin.token);
    a.send({ type: "message", text: "@a1 @a2 @a3 @a4 all of you", clientMessageId: "all" });
    await a.until((s) => finished(s, 3), "three runs");
    a.send({ type: "message", text: "marker", clientMessageId: "m" });
    await a.until((s) => s.of("message").some((m) => m.text === "marker"), "the marker");
    expect(a.of("run.started")).toHaveLength(3);
  });

  it("the built-in model quotes the message it answers, word by word", async () => {
    const fixture = await chatWithMembers(0);
    await addAgent(fixture, { handle: "local" });
    const a = await connect(fixture.chatId, fixture.admin.token);
    a.send({ type: "message", text: "@local ship it on Friday", clientMessageId: "l" });
    await a.until((s) => finished(s), "the run");
    const reply = a.of("message").find((m) => m.author.type === "agent");
    expect(reply?.text).toBe('You said: "@local ship it on Friday"');
    expect(a.of("run.delta").length).toBe(reply?.text.split(" ").length);
  });

  it("a reply stops at the length cap, and what every socket was streamed is exactly what is stored", async () => {
    const fixture = await chatWithMembers(1);
    // The built-in model at full speed; `clock: N` makes it stream N words of 14 characters, well past the cap.
    await addAgent(fixture, { handle: "long", model: "parlor-local:0" });
    const a = await connect(fixture.chatId, fixture.admin.token);
    const b = await connect(fixture.chatId, fixture.members[0].token);
    a.send({ type: "message", text: "@long clock: 2400", clientMessageId: "c" });
    for (const s of [a, b]) await s.until((x) => finished(x), "the run to finish");
    const [started] = a.of("run.started");
    const [done] = a.of("run.finished");
    const reply = a.of("message").find((m) => m.seq === done.seq);
    expect(reply?.text.length).toBe(MAX_REPLY_CHARS);
    for (const s of [a, b]) expect(streamedText(s, started.runId)).toBe(reply?.text);
    const stored = await api<{ messages: { seq: number; text: string }[] }>(
      fixture.admin.token,
      "GET",
      `/chats/${fixture.chatId}/messages`,
    );
    expect(stored.body.messages.find((m) => m.seq === done.seq)?.text).toBe(reply?.text);
  });

  it("only org admins define agents; handles are unique per org; chats take only their org's agents", async () => {
    const fixture = await chatWithMembers(1);
    const [member] = fixture.members;
    const byMember = await api(member.token, "POST", `/orgs/${fixture.orgId}/agents`, { name: "X", handle: "x" });
    expect(byMember.status).toBe(403);
    await addAgent(fixture, { handle: "dup" });
    const again = await api(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/agents`, { name: "Y", handle: "dup" });
    expect(again.status).toBe(409);
    const badHandle = await api(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/agents`, {
      name: "Z",
      handle: "Bad Handle",
    });
    expect(badHandle.status).toBe(400);
    const other = await chatWithMembers(0);
    const foreign = await api<{ id: string }>(other.admin.token, "POST", `/orgs/${other.orgId}/agents`, {
      name: "F",
      handle: "f",
    });
    const cross = await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/agents`, {
      agentId: foreign.body.id,
    });
    expect(cross.status).toBe(400);
    const list = await api<{ agents: { handle: string }[] }>(member.token, "GET", `/orgs/${fixture.orgId}/agents`);
    expect(list.body.agents.map((a) => a.handle)).toEqual(["dup"]);
  });

  it("an update changes only what it names, and no response shows a configured header's value", async () => {
    const fixture = await chatWithMembers(1);
    const created = await api<{ id: string }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/agents`, {
      name: "Ops",
      handle: "ops",
      systemPrompt: "Careful.",
      trigger: "always",
      tools: {
        http: { allow: [{ baseUrl: "https://api.example.com", methods: ["GET"] }], headers: { "X-Key": "s3cret" } },
      },
    });
    const renamed = await api<{ agent: Record<string, unknown> }>(
      fixture.admin.token,
      "PATCH",
      `/orgs/${fixture.orgId}/agents/${created.body.id}`,
      { name: "Operations" },
    );
    expect(renamed.status).toBe(200);
    expect(renamed.body.agent).toMatchObject({
      name: "Operations",
      systemPrompt: "Careful.",
      trigger: "always",
      tools: { http: { headers: { "X-Key": "[secret:AGENT_OPS_X_KEY]" } } },
    });
    const listed = await api(fixture.members[0].token, "GET", `/orgs/${fixture.orgId}/agents`);
    expect(JSON.stringify(listed.body)).not.toContain("s3cret");
    // Sending the shown form back keeps the reference to the secret the plain value was moved into.
    const tools = (renamed.body.agent as { tools: object }).tools;
    await api(fixture.admin.token, "PATCH", `/orgs/${fixture.orgId}/agents/${created.body.id}`, { tools });
    const { agents } = await import("../../api/db/schema");
    const { openDatabase } = await import("../../api/db/client");
    const { eq } = await import("drizzle-orm");
    const { env } = await import("cloudflare:workers");
    const { db, close } = openDatabase(env);
    const [row] = await db.select({ tools: agents.tools }).from(agents).where(eq(agents.id, created.body.id));
    await close();
    expect(row.tools.http?.headers).toEqual({ "X-Key": "{{secret:AGENT_OPS_X_KEY}}" });
  });

  it("a run that stops answering is failed by the room at its deadline, and its late reply is not stored", async () => {
    const fixture = await chatWithMembers(0);
    await addAgent(fixture, { handle: "stalled", model: "test:stalled" });
    // Agents end runs through the run's capability; which run a call was for is the capability's own.
    const finishRun = vi.spyOn(RunCapability.prototype, "finish");
    const callFor = (runId: string) =>
      finishRun.mock.contexts.findIndex((run) => (run as unknown as { runId: string }).runId === runId);
    try {
      const a = await connect(fixture.chatId, fixture.admin.token);
      a.send({ type: "message", text: "@stalled hello?", clientMessageId: "s" });
      await a.until((s) => s.of("run.delta").length >= 1, "the first delta");
      const room = (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(fixture.chatId);
      await runInDurableObject(room, (_r, state) => {
        state.storage.sql.exec("UPDATE runs SET deadline = ?", new Date(Date.now() - 1000).toISOString());
      });
      await runDurableObjectAlarm(room);
      await a.until((s) => s.of("run.failed").length === 1, "the failure");
      const [failed] = a.of("run.failed");
      expect(failed.reason).toBe("the agent stopped answering");
      expect(finishRun).not.toHaveBeenCalled();

      // The agent finishes later; the room has moved on: its reply is answered with the failure notice and dropped.
      stalled.mayFinish = true;
      await eventually(
        async () => callFor(failed.runId),
        (index) => index >= 0 && finishRun.mock.results[index]?.type === "return",
        "the agent's late finishRun",
      );
      const late = callFor(failed.runId);
      expect(finishRun.mock.calls[late][0]).toBe("one two three");
      expect(finishRun.mock.results[late]).toEqual({ type: "return", value: { seq: failed.seq } });

      a.send({ type: "message", text: "marker", clientMessageId: "m" });
      await a.until((s) => s.of("message").some((m) => m.text === "marker"), "the marker");
      expect(a.of("run.finished")).toEqual([]);
      expect(a.of("message").map((m) => m.author.type)).toEqual(["user", "system", "user"]);
      expect(streamedText(a, failed.runId)).toBe("one ");
      const stored = await api<{ messages: { author: { type: string } }[] }>(
        fixture.admin.token,
        "GET",
        `/chats/${fixture.chatId}/messages`,
      );
      expect(stored.body.messages.map((m) => m.author.type)).toEqual(["user", "system", "user"]);
    } finally {
      stalled.mayFinish = true;
      finishRun.mockRestore();
    }
  });

  it("a chat runs at most ten agent runs at once; the sender is told which were not started", async () => {
    const fixture = await chatWithMembers(0);
    for (const handle of ["s1", "s2", "s3"]) await addAgent(fixture, { handle, model: "test:slow" });
    const a = await connect(fixture.chatId, fixture.admin.token);
    for (let n = 1; n <= 4; n++) a.send({ type: "message", text: `@s1 @s2 @s3 round ${n}`, clientMessageId: `r${n}` });
    await a.until((s) => s.of("error").length === 1, "the refusal");
    expect(a.of("error")[0]).toMatchObject({ code: "rate_limited", clientMessageId: "r4" });
    expect(a.of("error")[0].message).toContain("@s2, @s3");
    expect(a.of("run.started")).toHaveLength(10);
    await a.until((s) => s.of("run.finished").length === 10, "the ten runs", 20_000);
  });
});
