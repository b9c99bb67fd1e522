/**
 * Reading state: chat lists carry each chat's head and the caller's unread count, which the room keeps up to date in
 * batches (never per message); `PUT …/read` moves the caller's cursor, only forward, and never past the chat's head.
 */
import { describe, expect, it } from "vitest";
import type { Message } from "../../protocol/chat";
import { api, chatWithMembers, eventually, unique } from "./helpers";

type ListedChat = { id: string; lastSeq: number; lastActivityAt: string; unread: number; createdAt: string };
type ReadAnswer = { read: { chatId: string; seq: number; lastSeq: number; unread: number } };

async function post(token: string, chatId: string, text: string): Promise<Message> {
  const answer = await api<{ message: Message }>(token, "POST", `/chats/${chatId}/messages`, {
    text,
    clientMessageId: unique("m"),
  });
  expect(answer.status).toBe(201);
  return answer.body.message;
}

async function listed(token: string, orgId: string, chatId: string): Promise<ListedChat> {
  const answer = await api<{ chats: ListedChat[] }>(token, "GET", `/orgs/${orgId}/chats`);
  expect(answer.status).toBe(200);
  const chat = answer.body.chats.find((c) => c.id === chatId);
  if (!chat) throw new Error("the chat is not in the caller's list");
  return chat;
}

function settled(token: string, orgId: string, chatId: string, lastSeq: number): Promise<ListedChat> {
  return eventually(
    () => listed(token, orgId, chatId),
    (chat) => chat.lastSeq === lastSeq,
    `lastSeq ${lastSeq}`,
  );
}

describe("reading state", () => {
  it("a new chat has nothing unread and its last activity is its creation", async () => {
    const { orgId, chatId, admin } = await chatWithMembers(0);
    const chat = await listed(admin.token, orgId, chatId);
    expect(chat).toMatchObject({ lastSeq: 0, unread: 0, lastActivityAt: chat.createdAt });
  });

  it("unread moves as others write, after the room's batch, and never counts your own messages", async () => {
    const { orgId, chatId, admin, members } = await chatWithMembers(1);
    const reader = members[0];
    await post(admin.token, chatId, "one");
    await post(admin.token, chatId, "two");
    const third = await post(admin.token, chatId, "three");

    const seen = await settled(reader.token, orgId, chatId, third.seq);
    expect(seen.unread).toBe(3);
    expect(Date.parse(seen.lastActivityAt)).toBe(Date.parse(third.createdAt));
    expect((await listed(admin.token, orgId, chatId)).unread).toBe(0);

    // Writing means having read up to there: the reader's own reply clears what came before it.
    const reply = await post(reader.token, chatId, "read them all");
    expect((await settled(reader.token, orgId, chatId, reply.seq)).unread).toBe(0);
    expect((await listed(admin.token, orgId, chatId)).unread).toBe(1);
  });

  it("reading clears unread, and the cursor never moves backwards", async () => {
    const { orgId, chatId, admin, members } = await chatWithMembers(1);
    const reader = members[0];
    for (const text of ["a", "b", "c", "d"]) await post(admin.token, chatId, text);
    await settled(reader.token, orgId, chatId, 4);

    const partly = await api<ReadAnswer>(reader.token, "PUT", `/chats/${chatId}/read`, { seq: 3 });
    expect(partly.status).toBe(200);
    expect(partly.body.read).toEqual({ chatId, seq: 3, lastSeq: 4, unread: 1 });
    expect((await listed(reader.token, orgId, chatId)).unread).toBe(1);

    const back = await api<ReadAnswer>(reader.token, "PUT", `/chats/${chatId}/read`, { seq: 1 });
    expect(back.status).toBe(200);
    expect(back.body.read.seq).toBe(3);

    await api(reader.token, "PUT", `/chats/${chatId}/read`, { seq: 4 });
    expect((await listed(reader.token, orgId, chatId)).unread).toBe(0);
    // Another member's cursor is their own.
    expect((await listed(admin.token, orgId, chatId)).unread).toBe(0);
  });

  it("a seq the room has but the list has not heard of yet is accepted, and the list catches up", async () => {
    const { orgId, chatId, admin, members } = await chatWithMembers(1);
    const reader = members[0];
    const message = await post(admin.token, chatId, "just now");
    const read = await api<ReadAnswer>(reader.token, "PUT", `/chats/${chatId}/read`, { seq: message.seq });
    expect(read.status).toBe(200);
    expect(read.body.read).toEqual({ chatId, seq: message.seq, lastSeq: message.seq, unread: 0 });
    expect(await listed(reader.token, orgId, chatId)).toMatchObject({ lastSeq: message.seq, unread: 0 });
  });

  it("a seq past the chat's head is refused and changes nothing", async () => {
    const { orgId, chatId, admin, members } = await chatWithMembers(1);
    const reader = members[0];
    await post(admin.token, chatId, "only one");
    const refused = await api<{ error: { code: string; message: string } }>(
      reader.token,
      "PUT",
      `/chats/${chatId}/read`,
      { seq: 2 },
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("bad_request");
    expect(refused.body.error.message).toContain("past the chat's newest message");
    expect((await settled(reader.token, orgId, chatId, 1)).unread).toBe(1);
  });

  it("bad bodies get 400, and only members may read", async () => {
    const { chatId, members } = await chatWithMembers(1);
    for (const body of [{}, { seq: -1 }, { seq: 1.5 }, { seq: "1" }]) {
      const answer = await api<{ error: { code: string } }>(members[0].token, "PUT", `/chats/${chatId}/read`, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
    }
    const stranger = await chatWithMembers(0);
    const answer = await api(stranger.admin.token, "PUT", `/chats/${chatId}/read`, { seq: 0 });
    expect([403, 404]).toContain(answer.status);
  });
  it("an org's unread in the org list sums the caller's chats of it, archived and deleted chats left out", async () => {
    const { orgId, chatId, admin, members } = await chatWithMembers(1);
    const reader = members[0];
    const orgUnread = async (token: string) => {
      const answer = await api<{ orgs: { id: string; unread: number }[] }>(token, "GET", "/orgs");
      expect(answer.status).toBe(200);
      return answer.body.orgs.find((o) => o.id === orgId)?.unread;
    };
    expect(await orgUnread(reader.token)).toBe(0);

    const second = await api<{ id: string }>(admin.token, "POST", `/orgs/${orgId}/chats`, { title: "second" });
    const third = await api<{ id: string }>(admin.token, "POST", `/orgs/${orgId}/chats`, { title: "third" });
    for (const id of [second.body.id, third.body.id]) {
      expect((await api(admin.token, "POST", `/chats/${id}/members`, { userId: reader.userId })).status).toBe(201);
    }
    for (const text of ["a", "b"]) await post(admin.token, chatId, text);
    for (const text of ["c", "d", "e"]) await post(admin.token, second.body.id, text);
    await post(admin.token, third.body.id, "f");
    await settled(reader.token, orgId, chatId, 2);
    await settled(reader.token, orgId, second.body.id, 3);
    await settled(reader.token, orgId, third.body.id, 1);
    expect(await orgUnread(reader.token)).toBe(6);
    // The writer has read everything they wrote; a reader's cursor is theirs alone.
    expect(await orgUnread(admin.token)).toBe(0);

    await api(reader.token, "PUT", `/chats/${chatId}/read`, { seq: 1 });
    expect(await orgUnread(reader.token)).toBe(5);
    expect((await api(admin.token, "PATCH", `/chats/${second.body.id}`, { archived: true })).status).toBe(200);
    expect(await orgUnread(reader.token)).toBe(2);
    expect((await api(admin.token, "DELETE", `/chats/${third.body.id}`)).status).toBe(200);
    expect(await orgUnread(reader.token)).toBe(1);
  });
});
