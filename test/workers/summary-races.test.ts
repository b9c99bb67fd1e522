/**
 * A summary job reads the log, then calls a model, then hands its summary to the room: a message deleted or edited
 * in between must not come back through that summary. The job says when it read (`readAt`); the room keeps the
 * summary only if nothing it covers changed since.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Message } from "../../protocol/chat";
import type { ChatRoom } from "../../rooms/chat-room";
import { api, chatWithMembers, unique } from "./helpers";

function roomStub(chatId: string): DurableObjectStub<ChatRoom> {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}

function secretWord(): string {
  return `qzj${crypto.randomUUID().replaceAll("-", "").slice(0, 12).replace(/\d/g, "x")}`;
}

async function post(token: string, chatId: string, text: string): Promise<Message> {
  const answer = await api<{ message: Message }>(token, "POST", `/chats/${chatId}/messages`, {
    text,
    clientMessageId: unique("m"),
  });
  expect(answer.status).toBe(201);
  return answer.body.message;
}

async function summaryTexts(chatId: string): Promise<string[]> {
  return runInDurableObject(roomStub(chatId), (_room, state) =>
    state.storage.sql
      .exec<{ text: string }>("SELECT text FROM summaries")
      .toArray()
      .map((r) => r.text),
  );
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("a summary job racing a deletion or an edit", () => {
  it("a summary read before a message was deleted is refused, and one read after it is kept", async () => {
    const { chatId, members } = await chatWithMembers(1);
    const [member] = members;
    const word = secretWord();
    await post(member.token, chatId, "hello");
    const secret = await post(member.token, chatId, `the code is ${word}`);
    await post(member.token, chatId, "bye");

    const readAt = new Date().toISOString();
    await tick();
    expect((await api(member.token, "DELETE", `/chats/${chatId}/messages/${secret.seq}`)).status).toBe(200);
    const stale = { version: 1, messageCursor: 3, text: `Member 0 shared ${word}.` };
    expect(await roomStub(chatId).storeSummary(stale, undefined, readAt)).toBe(false);
    expect(await summaryTexts(chatId)).toEqual([]);

    await tick();
    const fresh = { version: 1, messageCursor: 3, text: "Member 0 said hello and bye." };
    expect(await roomStub(chatId).storeSummary(fresh, undefined, new Date().toISOString())).toBe(true);
    expect(await summaryTexts(chatId)).toEqual([fresh.text]);
  });

  it("a summary read before a message was edited is refused (the edit may have removed a secret)", async () => {
    const { chatId, members } = await chatWithMembers(1);
    const [member] = members;
    const word = secretWord();
    const pasted = await post(member.token, chatId, `oops ${word}`);
    await post(member.token, chatId, "sorry");

    const readAt = new Date().toISOString();
    await tick();
    const edited = await api(member.token, "PATCH", `/chats/${chatId}/messages/${pasted.seq}`, { text: "oops" });
    expect(edited.status).toBe(200);
    const stale = { version: 1, messageCursor: 2, text: `Someone pasted ${word}.` };
    expect(await roomStub(chatId).storeSummary(stale, undefined, readAt)).toBe(false);
    expect(await summaryTexts(chatId)).toEqual([]);
  });

  it("a summary read before an admin rebuilt the summaries is refused", async () => {
    const { chatId, admin, members } = await chatWithMembers(1);
    const [member] = members;
    const word = secretWord();
    const secret = await post(member.token, chatId, `the code is ${word}`);
    await post(member.token, chatId, "and that is all");
    expect(await roomStub(chatId).storeSummary({ version: 1, messageCursor: 1, text: `Shared ${word}.` })).toBe(true);
    expect((await api(member.token, "DELETE", `/chats/${chatId}/messages/${secret.seq}`)).status).toBe(200);

    // A job for the next version read the old summary (the word in it) before the rebuild dropped it.
    const readAt = new Date().toISOString();
    await tick();
    expect((await api(admin.token, "POST", `/chats/${chatId}/summaries/rebuild`)).status).toBe(200);
    const late = { version: 1, messageCursor: 2, text: `Still: ${word}.` };
    expect(await roomStub(chatId).storeSummary(late, undefined, readAt)).toBe(false);
    expect((await summaryTexts(chatId)).join("\n")).not.toContain(word);
  });
});
