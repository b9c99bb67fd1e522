/**
 * Renaming, archiving, deleting and purging chats, and renaming orgs: who may, what open sockets hear, what an
 * archived or deleted chat refuses, and that the purge (the room's own alarm, `PARLOR_CHAT_DELETE_GRACE_DAYS` set to
 * about 4 s for this run) leaves nothing of the chat in the room, R2 or Postgres. Every change is read back from the
 * org's audit log.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../api/db/client";
import { chatMemberships, chats } from "../../api/db/schema";
import type { AuditAction, AuditEntry } from "../../protocol/audit";
import { closeCodes } from "../../protocol/chat";
import type { ChatRoom } from "../../rooms/chat-room";
import { api, call, chatWithMembers, connect, eventually, openSocket, tokenFor, unique } from "./helpers";

type Chat = { id: string; title: string; createdBy: string; createdAt: string; archived: boolean };
type Person = { userId: string; token: string };

function patchChat(who: Person, chatId: string, body: unknown) {
  return api<{ chat: Chat }>(who.token, "PATCH", `/chats/${chatId}`, body);
}

async function listChats(who: Person, orgId: string, query = ""): Promise<Chat[]> {
  const answer = await api<{ chats: Chat[] }>(who.token, "GET", `/orgs/${orgId}/chats${query}`);
  expect(answer.status).toBe(200);
  return answer.body.chats;
}

function post(who: Person, chatId: string, text: string) {
  return api(who.token, "POST", `/chats/${chatId}/messages`, { text, clientMessageId: unique("m") });
}

async function newest(admin: Person, orgId: string, action: AuditAction): Promise<AuditEntry | undefined> {
  const answer = await api<{ entries: AuditEntry[] }>(admin.token, "GET", `/orgs/${orgId}/audit?action=${action}`);
  expect(answer.status).toBe(200);
  return answer.body.entries[0];
}

/** A chat a plain member created, in an org whose admin is not in it; `other` is a second member of the chat. */
async function memberChat() {
  const fixture = await chatWithMembers(2);
  const [creator, other] = fixture.members;
  const created = await api<{ id: string }>(creator.token, "POST", `/orgs/${fixture.orgId}/chats`, { title: "plans" });
  expect(created.status).toBe(201);
  const chatId = created.body.id;
  expect((await api(creator.token, "POST", `/chats/${chatId}/members`, { userId: other.userId })).status).toBe(201);
  return { orgId: fixture.orgId, chatId, admin: fixture.admin, creator, other };
}

function roomStub(chatId: string): DurableObjectStub<ChatRoom> {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}

describe("renaming and archiving a chat", () => {
  it("its creator and an org admin may rename it, and every open socket hears the new title", async () => {
    const { orgId, chatId, admin, creator, other } = await memberChat();
    const socket = await connect(chatId, other.token);

    const byCreator = await patchChat(creator, chatId, { title: "  launch plans  " });
    expect(byCreator.status).toBe(200);
    expect(byCreator.body.chat).toMatchObject({ id: chatId, title: "launch plans", archived: false });
    await socket.until((s) => s.of("chat.updated").length === 1, "chat.updated");
    expect(socket.of("chat.updated")[0]).toEqual({ type: "chat.updated", title: "launch plans", archived: false });

    // The admin is not in the chat and may still rename it.
    const byAdmin = await patchChat(admin, chatId, { title: "Q3 launch" });
    expect(byAdmin.status).toBe(200);
    await socket.until((s) => s.of("chat.updated").length === 2, "second chat.updated");
    expect((await listChats(creator, orgId)).find((c) => c.id === chatId)?.title).toBe("Q3 launch");

    const entry = await newest(admin, orgId, "chat.renamed");
    expect(entry).toMatchObject({ actor: { type: "user", id: admin.userId }, target: `chat:${chatId}` });
    socket.close();
  });

  it("a member who did not create the chat may not rename or archive it, and nothing changes", async () => {
    const { orgId, chatId, creator, other } = await memberChat();
    for (const body of [{ title: "mine now" }, { archived: true }]) {
      const answer = await patchChat(other, chatId, body);
      expect(answer.status).toBe(403);
      expect(answer.body).toMatchObject({ error: { code: "forbidden" } });
    }
    expect((await listChats(creator, orgId)).find((c) => c.id === chatId)).toMatchObject({
      title: "plans",
      archived: false,
    });
    // Someone outside the org does not learn the chat exists.
    const stranger = { userId: unique("stranger"), token: "" };
    stranger.token = await tokenFor(stranger.userId);
    expect((await patchChat(stranger, chatId, { title: "x" })).status).toBe(404);
  });

  it("bad input is a 400 and changes nothing", async () => {
    const { orgId, chatId, admin, creator } = await memberChat();
    const bad: unknown[] = [
      {},
      { title: "   " },
      { title: "x".repeat(201) },
      { title: "a\u0000b" },
      { title: 5 },
      { archived: "yes" },
      { title: "ok", colour: "red" },
      "[]",
    ];
    for (const body of bad) {
      const answer = await patchChat(creator, chatId, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: "bad_request" } });
    }
    expect((await patchChat(creator, "not-a-uuid", { title: "x" })).status).toBe(404);
    expect((await listChats(creator, orgId)).find((c) => c.id === chatId)).toMatchObject({
      title: "plans",
      archived: false,
    });
    expect(await newest(admin, orgId, "chat.renamed")).toBeUndefined();
  });

  it("an archived chat refuses new messages over REST and the socket with 409, and leaves the list until unarchived", async () => {
    const { orgId, chatId, admin, members } = await chatWithMembers(1);
    const [member] = members;
    expect((await post(member, chatId, "before")).status).toBe(201);
    const socket = await connect(chatId, member.token);

    const archived = await patchChat(admin, chatId, { archived: true });
    expect(archived.status).toBe(200);
    expect(archived.body.chat.archived).toBe(true);
    await socket.until((s) => s.of("chat.updated").some((e) => e.archived), "archived event");

    const refused = await post(member, chatId, "after");
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: "conflict" } });
    expect(String((refused.body as { error: { message: string } }).error.message)).toContain("archived");
    socket.send({ type: "message", text: "over the socket", clientMessageId: "sock-1" });
    await socket.until((s) => s.of("error").length > 0, "the refusal");
    expect(socket.of("error")[0]).toMatchObject({ code: "conflict", clientMessageId: "sock-1" });
    const history = await api<{ messages: { text: string }[] }>(member.token, "GET", `/chats/${chatId}/messages`);
    expect(history.body.messages.map((m) => m.text)).toEqual(["before"]);

    // A retry would store a reply: refused too. A socket opened now learns the state before ready.
    const retry = await api(member.token, "POST", `/chats/${chatId}/runs/${crypto.randomUUID()}/retry`);
    expect(retry.status).toBe(409);
    const late = await connect(chatId, member.token);
    const types = late.events.map((e) => e.type);
    expect(types.indexOf("chat.updated")).toBeGreaterThanOrEqual(0);
    expect(types.indexOf("chat.updated")).toBeLessThan(types.indexOf("ready"));
    expect(late.of("chat.updated")[0]).toMatchObject({ title: "general", archived: true });
    late.close();

    expect((await listChats(member, orgId)).map((c) => c.id)).not.toContain(chatId);
    const all = await listChats(member, orgId, "?include=archived");
    expect(all.find((c) => c.id === chatId)?.archived).toBe(true);
    expect((await api(member.token, "GET", `/orgs/${orgId}/chats?include=everything`)).status).toBe(400);
    expect(await newest(admin, orgId, "chat.archived")).toMatchObject({ target: `chat:${chatId}` });

    const back = await patchChat(admin, chatId, { archived: false });
    expect(back.body.chat.archived).toBe(false);
    await socket.until((s) => s.of("chat.updated").some((e) => !e.archived), "unarchived event");
    expect((await post(member, chatId, "again")).status).toBe(201);
    expect((await listChats(member, orgId)).map((c) => c.id)).toContain(chatId);
    expect(await newest(admin, orgId, "chat.unarchived")).toMatchObject({ target: `chat:${chatId}` });
    socket.close();
  });
});

describe("deleting a chat", () => {
  it("only an org admin may delete a chat, even its creator may not", async () => {
    const { chatId, admin, creator } = await memberChat();
    const answer = await api(creator.token, "DELETE", `/chats/${chatId}`);
    expect(answer.status).toBe(403);
    expect((await post(creator, chatId, "still here")).status).toBe(201);
    expect((await api(admin.token, "POST", `/chats/${chatId}/restore-deleted`)).status).toBe(409);
  });

  it("a deleted chat answers 404 everywhere at once, its sockets close with 4004, and an admin can restore it", async () => {
    const { orgId, chatId, admin, members } = await chatWithMembers(1);
    const [member] = members;
    const socket = await connect(chatId, member.token);
    const ticket = await api<{ ticket: string }>(member.token, "POST", `/chats/${chatId}/socket-ticket`);
    expect(ticket.status).toBe(200);

    const deleted = await api<{ deleted: { chatId: string; deletedAt: string; purgeAt: string } }>(
      admin.token,
      "DELETE",
      `/chats/${chatId}`,
    );
    expect(deleted.status).toBe(200);
    const { deletedAt, purgeAt } = deleted.body.deleted;
    // The grace period of this run: 0.00005 days.
    expect(Date.parse(purgeAt) - Date.parse(deletedAt)).toBe(Math.round(0.00005 * 86_400_000));
    await socket.until((s) => s.closed !== null, "the close");
    expect(socket.closed).toEqual({ code: closeCodes.chatDeleted, reason: "chat deleted" });

    // Restored right away, before the purge: the checks below run on the tombstone first.
    const gone = [
      await api(member.token, "GET", `/chats/${chatId}/messages`),
      await post(member, chatId, "anyone there?"),
      await api(member.token, "POST", `/chats/${chatId}/socket-ticket`),
      await api(admin.token, "PATCH", `/chats/${chatId}`, { title: "x" }),
    ];
    expect(gone.map((a) => a.status)).toEqual([404, 404, 404, 404]);
    expect((await openSocket(chatId, member.token)).status).toBe(404);
    const withTicket = await call(`/api/chats/${chatId}/ws?ticket=${encodeURIComponent(ticket.body.ticket)}`, {
      headers: { Upgrade: "websocket" },
    });
    expect(withTicket.status).toBe(404);
    expect((await listChats(member, orgId, "?include=archived")).map((c) => c.id)).not.toContain(chatId);
    // Deleting again answers the same tombstone; a member cannot even see it.
    const again = await api<{ deleted: { purgeAt: string } }>(admin.token, "DELETE", `/chats/${chatId}`);
    expect(again.body.deleted.purgeAt).toBe(purgeAt);
    expect((await api(member.token, "POST", `/chats/${chatId}/restore-deleted`)).status).toBe(404);

    const restored = await api<{ chat: Chat }>(admin.token, "POST", `/chats/${chatId}/restore-deleted`);
    expect(restored.status).toBe(200);
    expect(restored.body.chat).toMatchObject({ id: chatId, title: "general" });
    const back = await connect(chatId, member.token);
    expect((await post(member, chatId, "back")).status).toBe(201);
    await back.until((s) => s.of("message").some((m) => m.text === "back"), "the message");

    expect(await newest(admin, orgId, "chat.deleted")).toMatchObject({
      actor: { type: "user", id: admin.userId },
      target: `chat:${chatId} purge_at=${purgeAt}`,
    });
    expect(await newest(admin, orgId, "chat.undeleted")).toMatchObject({ target: `chat:${chatId}` });

    // Past the old purge time, the restored chat is still all there.
    await new Promise((r) => setTimeout(r, Date.parse(purgeAt) - Date.now() + 2_500));
    expect((await api(member.token, "GET", `/chats/${chatId}/messages`)).status).toBe(200);
    expect(await newest(admin, orgId, "chat.purged")).toBeUndefined();
    back.close();
  }, 30_000);

  it("after the grace period the purge removes the room's storage, its backups in R2 and its rows", async () => {
    const { orgId, chatId, admin, members } = await chatWithMembers(1);
    expect((await post(members[0], chatId, "soon gone")).status).toBe(201);
    expect((await api(admin.token, "POST", `/chats/${chatId}/backups`)).status).toBe(201);
    const prefix = `backups/${orgId}/${chatId}/`;
    expect((await env.BACKUPS.list({ prefix })).objects.length).toBeGreaterThan(0);

    expect((await api(admin.token, "DELETE", `/chats/${chatId}`)).status).toBe(200);
    const { db, close } = openDatabase(env);
    try {
      await eventually(
        () => db.select({ id: chats.id }).from(chats).where(eq(chats.id, chatId)),
        (rows) => rows.length === 0,
        "the chat's row to be purged",
        20_000,
      );
      const memberships = await db.select().from(chatMemberships).where(eq(chatMemberships.chatId, chatId));
      expect(memberships).toEqual([]);
    } finally {
      await close();
    }
    // The room wipes itself right after the rows and backups are gone.
    const storage = await eventually(
      () =>
        runInDurableObject(roomStub(chatId), async (_room, state) => {
          const tables = state.storage.sql
            .exec<{ name: string }>(
              "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'",
            )
            .toArray()
            .map((t) => t.name);
          const rows = tables.reduce(
            (n, table) => n + state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM "${table}"`).one().n,
            0,
          );
          return { rows, alarm: await state.storage.getAlarm() };
        }),
      (found) => found.rows === 0,
      "the room's storage to be wiped",
    );
    expect(storage).toEqual({ rows: 0, alarm: null });
    expect((await env.BACKUPS.list({ prefix })).objects).toEqual([]);
    expect(await newest(admin, orgId, "chat.purged")).toMatchObject({
      actor: { type: "system", id: "parlor" },
      target: `chat:${chatId}`,
    });
    expect((await api(admin.token, "POST", `/chats/${chatId}/restore-deleted`)).status).toBe(404);
  }, 40_000);

  it("the purge writes what the room's audit outbox still held (a refusal counting its minute) before the chat goes", async () => {
    const { chatId, orgId, admin, members } = await chatWithMembers(1);
    const [member] = members;
    const agent = await api<{ id: string }>(admin.token, "POST", `/orgs/${orgId}/agents`, {
      name: "Helper",
      handle: "helper",
      model: "parlor-local:0",
    });
    expect(agent.status).toBe(201);
    await api(admin.token, "POST", `/chats/${chatId}/agents`, { agentId: agent.body.id });
    const capped = await api(admin.token, "PUT", `/orgs/${orgId}/members/${member.userId}/limits`, {
      agentRunsPerPeriod: 0,
    });
    expect(capped.status).toBe(200);
    const socket = await connect(chatId, member.token);
    for (let i = 0; i < 2; i++) socket.send({ type: "message", text: "@helper hi", clientMessageId: unique("r") });
    await socket.until((s) => s.of("error").length === 2, "two refusals");
    // The refusals wait for their minute to end in the outbox; the purge comes first.
    expect(await newest(admin, orgId, "run.refused")).toBeUndefined();

    expect((await api(admin.token, "DELETE", `/chats/${chatId}`)).status).toBe(200);
    const purged = await eventually(
      () => newest(admin, orgId, "chat.purged"),
      (entry) => entry !== undefined,
      "the purge",
      20_000,
    );
    const refused = await newest(admin, orgId, "run.refused");
    expect(refused).toMatchObject({
      actor: { type: "user", id: member.userId },
      target: `agent:${agent.body.id} quota_exceeded`,
      outcome: "refused",
      count: 2,
    });
    expect(refused?.seq).toBeLessThan(purged?.seq ?? 0);
    const verified = await api<{ ok: boolean }>(admin.token, "GET", `/orgs/${orgId}/audit/verify`);
    expect(verified.body.ok).toBe(true);
  });

  it("past its grace a deleted chat cannot be restored, even before its room's purge has run", async () => {
    const { chatId, admin } = await chatWithMembers(0);
    expect((await api(admin.token, "DELETE", `/chats/${chatId}`)).status).toBe(200);
    const { db, close } = openDatabase(env);
    try {
      // The grace runs out now; the room's alarm still waits for the purgeAt it was given (about 4 s away).
      await db
        .update(chats)
        .set({ purgeAt: new Date(Date.now() - 1000) })
        .where(eq(chats.id, chatId));
      expect((await api(admin.token, "POST", `/chats/${chatId}/restore-deleted`)).status).toBe(404);
      const [row] = await db.select({ deletedAt: chats.deletedAt }).from(chats).where(eq(chats.id, chatId));
      expect(row?.deletedAt).not.toBeNull();
    } finally {
      await close();
    }
  });
});

describe("renaming an org", () => {
  it("an org admin renames it; a member may not; a bad name is a 400 and changes nothing", async () => {
    const { orgId, admin, members } = await chatWithMembers(1);
    const [member] = members;
    const orgName = async (who: Person) =>
      (await api<{ orgs: { id: string; name: string }[] }>(who.token, "GET", "/orgs")).body.orgs.find(
        (o) => o.id === orgId,
      )?.name;

    const refused = await api(member.token, "PATCH", `/orgs/${orgId}`, { name: "Hijacked" });
    expect(refused.status).toBe(403);
    for (const body of [{}, { name: "" }, { name: "x".repeat(81) }, { name: "ok", extra: true }]) {
      expect((await api(admin.token, "PATCH", `/orgs/${orgId}`, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect(await orgName(member)).toBe("Test org");

    const renamed = await api<{ org: { id: string; name: string; role: string } }>(
      admin.token,
      "PATCH",
      `/orgs/${orgId}`,
      {
        name: " Acme ",
      },
    );
    expect(renamed.status).toBe(200);
    expect(renamed.body.org).toMatchObject({ id: orgId, name: "Acme", role: "admin" });
    expect(await orgName(member)).toBe("Acme");
    expect(await newest(admin, orgId, "org.renamed")).toMatchObject({
      actor: { type: "user", id: admin.userId },
      target: `org:${orgId}`,
    });
  });
});

describe("a chat's lifecycle and its messages", () => {
  it("an archived chat refuses edits with 409 and keeps the text, while its author may still delete a message", async () => {
    const { chatId, admin, members } = await chatWithMembers(1);
    const [member] = members;
    const first = await post(member, chatId, "a pasted secret sk-live-123");
    const second = await post(member, chatId, "keep this one");
    expect([first.status, second.status]).toEqual([201, 201]);
    const [firstSeq, secondSeq] = [first, second].map((r) => (r.body as { message: { seq: number } }).message.seq);
    expect((await patchChat(admin, chatId, { archived: true })).status).toBe(200);

    const edit = await api(member.token, "PATCH", `/chats/${chatId}/messages/${secondSeq}`, { text: "changed" });
    expect(edit.status).toBe(409);
    expect(String((edit.body as { error: { message: string } }).error.message)).toContain("archived");
    const removed = await api(member.token, "DELETE", `/chats/${chatId}/messages/${firstSeq}`);
    expect(removed.status).toBe(200);

    const history = await api<{ messages: { seq: number; text: string; deletedAt?: string }[] }>(
      member.token,
      "GET",
      `/chats/${chatId}/messages`,
    );
    const bySeq = new Map(history.body.messages.map((m) => [m.seq, m]));
    expect(bySeq.get(secondSeq)?.text).toBe("keep this one");
    expect(bySeq.get(firstSeq)).toMatchObject({ text: "" });
    expect(bySeq.get(firstSeq)?.deletedAt).toBeTruthy();
  });

  it("org-wide search leaves out a deleted chat waiting for its purge, and finds it again once restored", async () => {
    const { orgId, chatId, admin, members } = await chatWithMembers(1);
    const [member] = members;
    const word = unique("zephyr").replace(/[^a-z0-9]/gi, "");
    expect((await post(member, chatId, `the ${word} plan`)).status).toBe(201);
    const search = () => api<{ results: { chatId: string }[] }>(member.token, "GET", `/orgs/${orgId}/search?q=${word}`);
    expect((await search()).body.results.map((r) => r.chatId)).toEqual([chatId]);

    expect((await api(admin.token, "DELETE", `/chats/${chatId}`)).status).toBe(200);
    const hidden = await search();
    expect(hidden.status).toBe(200);
    expect(hidden.body.results).toEqual([]);

    expect((await api(admin.token, "POST", `/chats/${chatId}/restore-deleted`)).status).toBe(200);
    expect((await search()).body.results.map((r) => r.chatId)).toEqual([chatId]);
  });
});
