/**
 * Searching messages (FTS5 in each room): relevance order, an org-wide search that never reaches a chat the caller is
 * not in, edits and deletions reflected at once, a room from before the index built on wake, and hostile queries
 * taken as plain words (never a 500).
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Message } from "../../protocol/chat";
import type { SearchResult } from "../../protocol/message-edits";
import type { ChatRoom } from "../../rooms/chat-room";
import { api, chatWithMembers, tokenFor, unique } from "./helpers";

function roomStub(chatId: string): DurableObjectStub<ChatRoom> {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}

/** A made-up word no other test writes, so results hold only this test's messages. */
function word(): string {
  return `w${crypto.randomUUID().replaceAll("-", "").slice(0, 10).replace(/\d/g, "k")}`;
}

async function post(token: string, chatId: string, text: string): Promise<Message> {
  const answer = await api<{ message: Message }>(token, "POST", `/chats/${chatId}/messages`, {
    text,
    clientMessageId: unique("m"),
  });
  expect(answer.status).toBe(201);
  return answer.body.message;
}

async function searchChat(token: string, chatId: string, q: string, limit?: number) {
  const query = `q=${encodeURIComponent(q)}${limit === undefined ? "" : `&limit=${limit}`}`;
  return api<{ results: SearchResult[] }>(token, "GET", `/chats/${chatId}/search?${query}`);
}

async function found(token: string, chatId: string, q: string): Promise<number[]> {
  const answer = await searchChat(token, chatId, q);
  expect(answer.status).toBe(200);
  return answer.body.results.map((r) => r.message.seq);
}

async function searchOrg(token: string, orgId: string, q: string, limit?: number) {
  const query = `q=${encodeURIComponent(q)}${limit === undefined ? "" : `&limit=${limit}`}`;
  return api<{ results: SearchResult[] }>(token, "GET", `/orgs/${orgId}/search?${query}`);
}

describe("searching a chat", () => {
  it("finds every word asked for, most relevant first, then newest; snippets mark the words", async () => {
    const fixture = await chatWithMembers(0);
    const { token } = fixture.admin;
    const w = word();
    const once = await post(
      token,
      fixture.chatId,
      `we talked for a long time about lunch, the weather, trains, and at some point ${w} came up`,
    );
    const thrice = await post(token, fixture.chatId, `${w} ${w} ${w}`);
    const twinOld = await post(token, fixture.chatId, `release ${w} notes`);
    const twinNew = await post(token, fixture.chatId, `release ${w} notes`);
    await post(token, fixture.chatId, "nothing to see here");

    expect(await found(token, fixture.chatId, w)).toEqual([thrice.seq, twinNew.seq, twinOld.seq, once.seq]);
    // Every word must appear; stems match ("notes" finds "note").
    expect(await found(token, fixture.chatId, `release ${w}`)).toEqual([twinNew.seq, twinOld.seq]);
    expect(await found(token, fixture.chatId, `${w} note`)).toEqual([twinNew.seq, twinOld.seq]);
    expect(await found(token, fixture.chatId, `${w} absentword`)).toEqual([]);

    const answer = await searchChat(token, fixture.chatId, w, 1);
    expect(answer.status).toBe(200);
    expect(answer.body.results).toEqual([
      { chatId: fixture.chatId, message: expect.objectContaining({ seq: thrice.seq }), snippet: expect.any(String) },
    ]);
    expect(answer.body.results[0].snippet).toBe(`\u0002${w}\u0003 \u0002${w}\u0003 \u0002${w}\u0003`);
  });

  it("edits and deletions are reflected at once", async () => {
    const fixture = await chatWithMembers(1);
    const [member] = fixture.members;
    const [before, after] = [word(), word()];
    const message = await post(member.token, fixture.chatId, `plan ${before}`);
    expect(await found(member.token, fixture.chatId, before)).toEqual([message.seq]);

    const path = `/chats/${fixture.chatId}/messages/${message.seq}`;
    expect((await api(member.token, "PATCH", path, { text: `plan ${after}` })).status).toBe(200);
    expect(await found(member.token, fixture.chatId, before)).toEqual([]);
    const edited = await searchChat(member.token, fixture.chatId, after);
    expect(edited.body.results).toEqual([
      expect.objectContaining({
        message: expect.objectContaining({ text: `plan ${after}`, editedAt: expect.any(String) }),
      }),
    ]);

    expect((await api(member.token, "DELETE", path)).status).toBe(200);
    expect(await found(member.token, fixture.chatId, after)).toEqual([]);
    expect(await found(member.token, fixture.chatId, "plan")).toEqual([]);
  });

  it("a room from before the index gets it built from its log when it wakes", async () => {
    const fixture = await chatWithMembers(0);
    const { token } = fixture.admin;
    const w = word();
    const message = await post(token, fixture.chatId, `old ${w}`);
    // As the room was before search existed: no index, no triggers.
    await runInDurableObject(roomStub(fixture.chatId), (_room, state) => {
      state.storage.sql.exec(`
        DROP TRIGGER messages_fts_insert; DROP TRIGGER messages_fts_update; DROP TRIGGER messages_fts_delete;
        DROP TABLE messages_fts;`);
    });
    await evictDurableObject(roomStub(fixture.chatId));
    expect(await found(token, fixture.chatId, w)).toEqual([message.seq]);
    const next = await post(token, fixture.chatId, `new ${w}`);
    expect((await found(token, fixture.chatId, w)).sort()).toEqual([message.seq, next.seq]);
  });

  it("queries are plain words: search syntax and hostile input never fail", async () => {
    const fixture = await chatWithMembers(0);
    const { token } = fixture.admin;
    const w = word();
    const message = await post(token, fixture.chatId, `deploy ${w} now`);
    const hostile = [
      '"',
      '""',
      "*",
      "NEAR(",
      `NEAR(${w}`,
      `"${w}`,
      `${w}*`,
      `${w} OR nothing`,
      `${w} AND`,
      `NOT ${w}`,
      `text:${w}`,
      `^${w}`,
      `-${w}`,
      "(",
      ")",
      "'; DROP TABLE messages; --",
      "\\",
      "🦀",
      "a".repeat(200),
      Array.from({ length: 40 }, (_, i) => `x${i}`).join(" "),
    ];
    for (const q of hostile) {
      const answer = await searchChat(token, fixture.chatId, q);
      expect(answer.status, q).toBe(200);
    }
    // Words wrapped in syntax are still found as words.
    for (const q of [`"${w}`, `${w}*`, `deploy:${w}`, `-${w}`, `(${w})`, `^${w}`]) {
      expect(await found(token, fixture.chatId, q), q).toEqual([message.seq]);
    }
    // "OR", "NOT" and "NEAR" are words here, and this chat has none of them.
    expect(await found(token, fixture.chatId, `NEAR(${w}`)).toEqual([]);
    expect(await found(token, fixture.chatId, `${w} OR nothing`)).toEqual([]);
    expect(await found(token, fixture.chatId, `NOT ${w}`)).toEqual([]);

    for (const [q, limit] of [
      ["", undefined],
      ["   ", undefined],
      ["a".repeat(201), undefined],
      [w, 0],
      [w, 51],
    ] as const) {
      const answer = await searchChat(token, fixture.chatId, q, limit);
      expect(answer.status, `${q.slice(0, 10)} ${limit}`).toBe(400);
    }
    expect((await api(token, "GET", `/chats/${fixture.chatId}/search?q=${w}&limit=1e1`)).status).toBe(400);
    expect((await api(token, "GET", `/chats/${fixture.chatId}/search`)).status).toBe(400);
  });

  it("only the chat's members search it", async () => {
    const fixture = await chatWithMembers(0);
    const w = word();
    await post(fixture.admin.token, fixture.chatId, w);
    const inOrg = unique("bystander");
    const inOrgToken = await tokenFor(inOrg);
    await api(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/members`, { userId: inOrg, role: "member" });
    expect((await searchChat(inOrgToken, fixture.chatId, w)).status).toBe(403);
    expect((await searchChat(await tokenFor(unique("outsider")), fixture.chatId, w)).status).toBe(404);
  });
});

describe("searching an org", () => {
  it("searches every chat the caller is in and no other, merged by relevance then time", async () => {
    const fixture = await chatWithMembers(1);
    const [member] = fixture.members;
    const w = word();
    const api1 = (path: string, body?: unknown) => api<{ id: string }>(fixture.admin.token, "POST", path, body);
    // A second chat with the member, a third without: the same org.
    const second = (await api1(`/orgs/${fixture.orgId}/chats`, { title: "second" })).body.id;
    expect((await api1(`/chats/${second}/members`, { userId: member.userId })).status).toBe(201);
    const hidden = (await api1(`/orgs/${fixture.orgId}/chats`, { title: "admins only" })).body.id;
    // Another org entirely, where the member is also present.
    const other = await chatWithMembers(0);
    await api(other.admin.token, "POST", `/orgs/${other.orgId}/members`, { userId: member.userId, role: "member" });
    await api(other.admin.token, "POST", `/chats/${other.chatId}/members`, { userId: member.userId });

    const weak = await post(
      member.token,
      fixture.chatId,
      `a long message that mentions ${w} once among many other words`,
    );
    const strong = await post(member.token, second, `${w} ${w}`);
    const newer = await post(fixture.admin.token, fixture.chatId, `${w} ${w}`);
    await post(fixture.admin.token, hidden, `${w} ${w} ${w} secret plans`);
    await post(other.admin.token, other.chatId, `${w} ${w} ${w} elsewhere`);

    const answer = await searchOrg(member.token, fixture.orgId, w);
    expect(answer.status).toBe(200);
    expect(answer.body.results.map((r) => [r.chatId, r.message.id])).toEqual([
      [fixture.chatId, newer.id],
      [second, strong.id],
      [fixture.chatId, weak.id],
    ]);
    const limited = await searchOrg(member.token, fixture.orgId, w, 2);
    expect(limited.body.results.map((r) => r.message.id)).toEqual([newer.id, strong.id]);

    // The admin is in the hidden chat and sees it; the other org's chat is never in this org's results.
    const asAdmin = await searchOrg(fixture.admin.token, fixture.orgId, w);
    expect(new Set(asAdmin.body.results.map((r) => r.chatId))).toEqual(new Set([fixture.chatId, second, hidden]));
    const elsewhere = await searchOrg(member.token, other.orgId, w);
    expect(elsewhere.body.results.map((r) => r.chatId)).toEqual([other.chatId]);

    expect((await searchOrg(await tokenFor(unique("outsider")), fixture.orgId, w)).status).toBe(404);
    expect((await searchOrg(member.token, fixture.orgId, '"NEAR(*')).status).toBe(200);
  });
});
