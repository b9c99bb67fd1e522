import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { LanguageModelV4CallOptions, LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { simulateReadableStream } from "ai";
import { MockLanguageModelV4 } from "ai/test";
import { describe, expect, it } from "vitest";
import { registerModel } from "../../agents/models";
import type { ChatRoom } from "../../rooms/chat-room";
import { api, chatWithMembers, connect, eventually } from "./helpers";

const prompts: LanguageModelV4CallOptions[] = [];
registerModel("test:capture", () => {
  const chunks: LanguageModelV4StreamPart[] = [
    { type: "text-start", id: "t" },
    { type: "text-delta", id: "t", delta: "noted" },
    { type: "text-end", id: "t" },
    {
      type: "finish",
      finishReason: { unified: "stop", raw: "stop" },
      usage: {
        inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
        outputTokens: { total: 1, text: 1, reasoning: 0 },
      },
    },
  ];
  return new MockLanguageModelV4({
    doStream: async (options) => {
      prompts.push(options);
      return { stream: simulateReadableStream({ chunks }) };
    },
  });
});

type SummaryRow = { version: number; message_cursor: number; text: string };

async function summaries(chatId: string): Promise<SummaryRow[]> {
  const stub = (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
  return runInDurableObject(stub, (_room, state) =>
    state.storage.sql
      .exec<SummaryRow>("SELECT version, message_cursor, text FROM summaries ORDER BY version")
      .toArray(),
  );
}

describe("summaries", () => {
  it("summarise the older part of the log with a version and cursor, and the next run's prompt uses them", async () => {
    const fixture = await chatWithMembers(0);
    const post = (n: number) =>
      api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/messages`, {
        text: `note ${n} about the launch`,
        clientMessageId: `n${n}`,
      });
    // With a summary every 8 messages, keeping the last 3 out of it: 11 messages make the first one due.
    for (let n = 1; n <= 11; n++) await post(n);
    const first = await eventually(
      () => summaries(fixture.chatId),
      (rows) => rows.length === 1,
      "the first summary",
    );
    expect(first[0]).toMatchObject({ version: 1, message_cursor: 8 });
    expect(first[0].text).toContain("note 1 about the launch");
    expect(first[0].text).not.toContain("note 9");

    for (let n = 12; n <= 19; n++) await post(n);
    const second = await eventually(
      () => summaries(fixture.chatId),
      (rows) => rows.length === 2,
      "the second summary",
    );
    expect(second[1]).toMatchObject({ version: 2, message_cursor: 16 });
    // Each summary's model tokens are the org's usage, counted once per version.
    const stub = (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(fixture.chatId);
    const counted = await runInDurableObject(stub, (_room, state) =>
      state.storage.sql
        .exec<{ key: string; tokens_in: number; tokens_out: number }>(
          "SELECT key, tokens_in, tokens_out FROM usage_log WHERE key LIKE 'summary:%' ORDER BY key",
        )
        .toArray(),
    );
    expect(counted.map((row) => row.key)).toEqual(["summary:1", "summary:2"]);
    expect(counted.every((row) => row.tokens_in > 0 && row.tokens_out > 0)).toBe(true);

    const created = await api<{ id: string }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/agents`, {
      name: "Scribe",
      handle: "scribe",
      model: "test:capture",
    });
    await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/agents`, { agentId: created.body.id });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    prompts.length = 0;
    socket.send({ type: "message", text: "@scribe where are we?", clientMessageId: "q" });
    await socket.until((s) => s.of("run.finished").length === 1, "the run");
    const [prompt] = prompts;
    const system = prompt.prompt.find((m) => m.role === "system");
    expect(system?.content).toContain("Summary of the earlier conversation (up to message 16)");
    expect(system?.content).toContain(second[1].text);
    const turns = prompt.prompt
      .filter((m) => m.role === "user")
      .map((m) => (m.content[0].type === "text" ? m.content[0].text : ""));
    // Only what the summary does not cover is read verbatim: messages 17 to 20.
    expect(turns.map((t) => t.replace(/^\[[^\]]*\] /, ""))).toEqual([
      "note 17 about the launch",
      "note 18 about the launch",
      "note 19 about the launch",
      "@scribe where are we?",
    ]);
  });

  it("a summary for a version that is no longer next changes nothing", async () => {
    const fixture = await chatWithMembers(0);
    const stub = (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(fixture.chatId);
    expect(await stub.storeSummary({ version: 1, messageCursor: 5, text: "first" })).toBe(true);
    expect(await stub.storeSummary({ version: 1, messageCursor: 9, text: "again" })).toBe(false);
    expect(await stub.storeSummary({ version: 3, messageCursor: 9, text: "skipped one" })).toBe(false);
    expect(await stub.storeSummary({ version: 2, messageCursor: 4, text: "backwards" })).toBe(false);
    expect((await summaries(fixture.chatId)).map((s) => s.text)).toEqual(["first"]);
  });
});
