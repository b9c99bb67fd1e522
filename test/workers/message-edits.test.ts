/**
 * Editing and deleting messages: an edit reaches every socket, history, catch-up and a restore; a deletion leaves a
 * tombstone whose words are gone from the room's storage (every table, the search index included), from history,
 * search and the next backup; refusals change nothing; every edit and deletion is audited without its text.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../../protocol/audit";
import type { Message } from "../../protocol/chat";
import { gunzipLines } from "../../rooms/backup-format";
import type { ChatRoom } from "../../rooms/chat-room";
import {
  api,
  type ChatFixture,
  chatWithMembers,
  connect,
  eventually,
  type TestSocket,
  tokenFor,
  unique,
} from "./helpers";

function roomStub(chatId: string): DurableObjectStub<ChatRoom> {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}

/** A word nobody else writes, with a rare start so the index stores it whole: what must vanish. */
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

async function history(token: string, chatId: string): Promise<Message[]> {
  const answer = await api<{ messages: Message[] }>(token, "GET", `/chats/${chatId}/messages?after=0&limit=500`);
  expect(answer.status).toBe(200);
  return answer.body.messages;
}

async function search(token: string, chatId: string, q: string) {
  const answer = await api<{ results: { message: Message }[] }>(
    token,
    "GET",
    `/chats/${chatId}/search?q=${encodeURIComponent(q)}`,
  );
  expect(answer.status).toBe(200);
  return answer.body.results;
}

/** Every byte of every table of the room (FTS5's index blobs included), as latin-1 text per table. */
async function roomBytes(chatId: string): Promise<Record<string, string>> {
  return runInDurableObject(roomStub(chatId), (_room, state) => {
    const sql = state.storage.sql;
    const tables = sql
      // The runtime's own tables (_cf_*) are closed to the object; the room keeps nothing in them.
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
      )
      .toArray();
    const bytes: Record<string, string> = {};
    for (const { name } of tables) {
      const parts: string[] = [];
      for (const row of sql.exec(`SELECT * FROM "${name}"`)) {
        for (const value of Object.values(row)) {
          parts.push(value instanceof ArrayBuffer ? String.fromCharCode(...new Uint8Array(value)) : String(value));
        }
      }
      bytes[name] = parts.join("\n");
    }
    return bytes;
  });
}

/** The tables of the room that hold `word` anywhere in their bytes. */
async function tablesHolding(chatId: string, word: string): Promise<string[]> {
  return Object.entries(await roomBytes(chatId))
    .filter(([, bytes]) => bytes.includes(word))
    .map(([name]) => name)
    .sort();
}

/** Every object of a backup, unzipped, as text. */
async function backupText(fixture: ChatFixture): Promise<string> {
  const answer = await api<{ backup: { id: string } }>(fixture.admin.token, "POST", `/chats/${fixture.chatId}/backups`);
  expect(answer.status).toBe(201);
  const prefix = `backups/${fixture.orgId}/${fixture.chatId}/${answer.body.backup.id}/`;
  const listed = await env.BACKUPS.list({ prefix });
  const texts: string[] = [];
  for (const object of listed.objects) {
    const body = (await env.BACKUPS.get(object.key)) as R2ObjectBody;
    const bytes = await body.arrayBuffer();
    texts.push(object.key.endsWith(".gz") ? JSON.stringify(await gunzipLines(bytes)) : new TextDecoder().decode(bytes));
  }
  return texts.join("\n");
}

async function flushOutbox(chatId: string): Promise<void> {
  await eventually(
    async () => {
      await runDurableObjectAlarm(roomStub(chatId));
      return runInDurableObject(
        roomStub(chatId),
        (_room, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM audit_outbox").one().n,
      );
    },
    (left) => left === 0,
    "the room's audit outbox to drain",
  );
}

async function auditOf(fixture: ChatFixture, action: AuditEntry["action"]): Promise<AuditEntry[]> {
  const answer = await api<{ entries: AuditEntry[] }>(
    fixture.admin.token,
    "GET",
    `/orgs/${fixture.orgId}/audit?action=${action}`,
  );
  expect(answer.status).toBe(200);
  return answer.body.entries;
}

const edits = (s: TestSocket) => s.of("message.edited");
const deletions = (s: TestSocket) => s.of("message.deleted");

describe("editing a message", () => {
  it("an edit reaches every socket, history, a later socket's catch-up and a restored backup", async () => {
    const fixture = await chatWithMembers(1);
    const [member] = fixture.members;
    const sockets = [await connect(fixture.chatId, fixture.admin.token), await connect(fixture.chatId, member.token)];
    const original = await post(member.token, fixture.chatId, "see you at 10");

    const edited = await api<{ message: Message }>(
      member.token,
      "PATCH",
      `/chats/${fixture.chatId}/messages/${original.seq}`,
      { text: "see you at 11" },
    );
    expect(edited.status).toBe(200);
    expect(edited.body.message).toMatchObject({ seq: original.seq, id: original.id, text: "see you at 11" });
    expect(edited.body.message.editedAt).toEqual(expect.any(String));
    for (const socket of sockets) {
      await socket.until((s) => edits(s).length === 1, "message.edited");
      expect(edits(socket)[0]).toEqual({
        type: "message.edited",
        seq: original.seq,
        text: "see you at 11",
        editedAt: edited.body.message.editedAt,
      });
    }

    // The same text again changes nothing and tells nobody.
    const again = await api(member.token, "PATCH", `/chats/${fixture.chatId}/messages/${original.seq}`, {
      text: "see you at 11",
    });
    expect(again.status).toBe(200);

    const [fromHistory] = (await history(member.token, fixture.chatId)).filter((m) => m.seq === original.seq);
    expect(fromHistory).toMatchObject({ text: "see you at 11", editedAt: edited.body.message.editedAt });
    const later = await connect(fixture.chatId, fixture.admin.token);
    expect(later.of("message").find((m) => m.seq === original.seq)).toMatchObject({
      text: "see you at 11",
      editedAt: edited.body.message.editedAt,
    });
    expect((await search(member.token, fixture.chatId, "11")).map((r) => r.message.seq)).toEqual([original.seq]);

    const backup = await api<{ backup: { id: string } }>(
      fixture.admin.token,
      "POST",
      `/chats/${fixture.chatId}/backups`,
    );
    expect(backup.status).toBe(201);
    const restored = await api<{ id: string }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/chats/restore`, {
      chatId: fixture.chatId,
      backupId: backup.body.backup.id,
    });
    expect(restored.status).toBe(201);
    const [back] = (await history(fixture.admin.token, restored.body.id)).filter((m) => m.seq === original.seq);
    expect(back).toMatchObject({ text: "see you at 11", editedAt: edited.body.message.editedAt, id: original.id });
    // The restored room's search index was built as its rows came back.
    expect((await search(fixture.admin.token, restored.body.id, "11")).map((r) => r.message.seq)).toEqual([
      original.seq,
    ]);

    await new Promise((r) => setTimeout(r, 100));
    for (const socket of [...sockets, later]) {
      expect(edits(socket)).toHaveLength(socket === later ? 0 : 1);
      socket.close();
    }
    await flushOutbox(fixture.chatId);
    const audited = await auditOf(fixture, "message.edited");
    expect(audited).toEqual([
      expect.objectContaining({
        actor: { type: "user", id: member.userId },
        target: `message:${original.seq} chat:${fixture.chatId} author:user:${member.userId}`,
        outcome: "success",
      }),
    ]);
    expect(JSON.stringify(audited)).not.toContain("see you");
  });
});

describe("deleting a message", () => {
  it("a deleted message's words are gone from room storage, history, search and the next backup; the seq stays", async () => {
    const fixture = await chatWithMembers(1);
    const [member] = fixture.members;
    const word = secretWord();
    const socket = await connect(fixture.chatId, fixture.admin.token);
    await post(member.token, fixture.chatId, "before");
    const secret = await post(member.token, fixture.chatId, `oops the token is ${word} please ignore`);
    await post(member.token, fixture.chatId, "after");

    // Positive controls: before the deletion each place below holds the word.
    expect(await tablesHolding(fixture.chatId, word)).toEqual(["messages", "messages_fts_data"]);
    expect((await search(member.token, fixture.chatId, word)).map((r) => r.message.seq)).toEqual([secret.seq]);
    expect(await backupText(fixture)).toContain(word);

    const deleted = await api<{ message: Message }>(
      member.token,
      "DELETE",
      `/chats/${fixture.chatId}/messages/${secret.seq}`,
    );
    expect(deleted.status).toBe(200);
    expect(deleted.body.message).toMatchObject({
      seq: secret.seq,
      id: secret.id,
      text: "",
      deletedBy: member.userId,
      deletedAt: expect.any(String),
    });
    await socket.until((s) => deletions(s).length === 1, "message.deleted");
    expect(deletions(socket)[0]).toEqual({
      type: "message.deleted",
      seq: secret.seq,
      deletedBy: member.userId,
      deletedAt: deleted.body.message.deletedAt,
    });

    expect(await tablesHolding(fixture.chatId, word)).toEqual([]);
    const log = await history(member.token, fixture.chatId);
    expect(log.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(log[1]).toMatchObject({ text: "", deletedAt: deleted.body.message.deletedAt, deletedBy: member.userId });
    expect(JSON.stringify(log)).not.toContain(word);
    expect(await search(member.token, fixture.chatId, word)).toEqual([]);
    const later = await connect(fixture.chatId, member.token);
    expect(later.of("message")[1]).toMatchObject({ seq: secret.seq, text: "", deletedBy: member.userId });
    expect(await backupText(fixture)).not.toContain(word);

    // Deleting or editing it again: 409, and nothing changes.
    const path = `/chats/${fixture.chatId}/messages/${secret.seq}`;
    expect((await api(member.token, "DELETE", path)).status).toBe(409);
    expect((await api(fixture.admin.token, "DELETE", path)).status).toBe(409);
    expect((await api(member.token, "PATCH", path, { text: "back again" })).status).toBe(409);
    expect((await history(member.token, fixture.chatId))[1]).toEqual(log[1]);

    socket.close();
    later.close();
    await flushOutbox(fixture.chatId);
    const audited = await auditOf(fixture, "message.deleted");
    expect(audited).toEqual([
      expect.objectContaining({
        actor: { type: "user", id: member.userId },
        target: `message:${secret.seq} chat:${fixture.chatId} author:user:${member.userId}`,
      }),
    ]);
    expect(JSON.stringify(audited)).not.toContain(word);
  });

  it("a deletion a summary already covered leaves a notice, and an org admin can rebuild the summaries", async () => {
    const fixture = await chatWithMembers(1);
    const [member] = fixture.members;
    const word = secretWord();
    const secret = await post(member.token, fixture.chatId, `the code is ${word}`);
    await post(member.token, fixture.chatId, "and that is all");
    // As the summary job would have stored it, words and all.
    expect(
      await roomStub(fixture.chatId).storeSummary({ version: 1, messageCursor: 2, text: `Someone shared ${word}.` }),
    ).toBe(true);
    const socket = await connect(fixture.chatId, fixture.admin.token);

    expect((await api(member.token, "DELETE", `/chats/${fixture.chatId}/messages/${secret.seq}`)).status).toBe(200);
    await socket.until((s) => s.of("message").some((m) => m.author.type === "system"), "the notice");
    const notice = socket.of("message").find((m) => m.author.type === "system");
    expect(notice?.text).toContain("may have carried");

    const rebuild = `/chats/${fixture.chatId}/summaries/rebuild`;
    const refused = await api(member.token, "POST", rebuild);
    expect(refused.status).toBe(403);
    expect(await tablesHolding(fixture.chatId, word)).toEqual(["summaries"]);
    const rebuilt = await api<{ removed: number }>(fixture.admin.token, "POST", rebuild);
    expect(rebuilt).toEqual({ status: 200, body: { removed: 1 } });
    expect(await tablesHolding(fixture.chatId, word)).toEqual([]);
    expect(await backupText(fixture)).not.toContain(word);

    socket.close();
    await flushOutbox(fixture.chatId);
    expect(await auditOf(fixture, "chat.summaries_rebuilt")).toEqual([
      expect.objectContaining({
        actor: { type: "user", id: fixture.admin.userId },
        target: `chat:${fixture.chatId} removed=1`,
      }),
    ]);
  });

  it("agent replies: nobody edits them, a member may not delete one, an admin may, and the run's saved text goes too", async () => {
    const fixture = await chatWithMembers(1);
    const [member] = fixture.members;
    const agent = await api<{ id: string }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/agents`, {
      name: "Echo",
      handle: "echo",
      model: "parlor-local:0",
    });
    expect(agent.status).toBe(201);
    await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/agents`, { agentId: agent.body.id });
    const word = secretWord();
    const socket = await connect(fixture.chatId, member.token);
    socket.send({ type: "message", text: `@echo repeat ${word}`, clientMessageId: unique("m") });
    await socket.until((s) => s.of("run.finished").length === 1, "the reply");
    const reply = socket.of("message").find((m) => m.author.type === "agent") as Message;
    expect(reply.text).toContain(word);
    const { runId } = socket.of("run.finished")[0];
    // As a run that paused for a decision would have kept it.
    await runInDurableObject(roomStub(fixture.chatId), (_room, state) => {
      state.storage.sql.exec("UPDATE runs SET partial_text = ? WHERE run_id = ?", reply.text, runId);
    });

    const path = `/chats/${fixture.chatId}/messages/${reply.seq}`;
    expect((await api(member.token, "PATCH", path, { text: "I said nothing" })).status).toBe(403);
    expect((await api(fixture.admin.token, "PATCH", path, { text: "I said nothing" })).status).toBe(403);
    expect((await api(member.token, "DELETE", path)).status).toBe(403);
    expect((await history(member.token, fixture.chatId)).find((m) => m.seq === reply.seq)?.text).toBe(reply.text);

    expect((await api(fixture.admin.token, "DELETE", path)).status).toBe(200);
    await socket.until((s) => deletions(s).length === 1, "message.deleted");
    expect(deletions(socket)[0].deletedBy).toBe(fixture.admin.userId);
    const partial = await runInDurableObject(roomStub(fixture.chatId), (_room, state) =>
      state.storage.sql.exec<{ p: string | null }>("SELECT partial_text AS p FROM runs WHERE run_id = ?", runId).one(),
    );
    expect(partial.p).toBeNull();
    // The member's own message still holds the word; the reply no longer does.
    expect((await search(member.token, fixture.chatId, word)).map((r) => r.message.author.type)).toEqual(["user"]);
    socket.close();
  });
});

describe("refusals change nothing", () => {
  it("others' messages, unknown seqs, bad text and outsiders are refused, and nothing is stored or sent", async () => {
    const fixture = await chatWithMembers(2);
    const [member, other] = fixture.members;
    const adminMessage = await post(fixture.admin.token, fixture.chatId, "admin wrote this");
    const memberMessage = await post(member.token, fixture.chatId, "member wrote this");
    const socket = await connect(fixture.chatId, other.token);
    const before = await history(member.token, fixture.chatId);
    const at = (seq: number | string) => `/chats/${fixture.chatId}/messages/${seq}`;

    const refusals: [string | null, string, string, unknown, number][] = [
      [member.token, "PATCH", at(adminMessage.seq), { text: "mine now" }, 403],
      [fixture.admin.token, "PATCH", at(memberMessage.seq), { text: "admins do not edit" }, 403],
      [other.token, "DELETE", at(memberMessage.seq), undefined, 403],
      [member.token, "DELETE", at(adminMessage.seq), undefined, 403],
      [member.token, "PATCH", at(99), { text: "nothing here" }, 404],
      [fixture.admin.token, "DELETE", at(99), undefined, 404],
      [member.token, "PATCH", at(memberMessage.seq), { text: "" }, 400],
      [member.token, "PATCH", at(memberMessage.seq), { text: "   " }, 400],
      [member.token, "PATCH", at(memberMessage.seq), { text: "a\u0000b" }, 400],
      [member.token, "PATCH", at(memberMessage.seq), { text: "x".repeat(16 * 1024 + 1) }, 400],
      [member.token, "PATCH", at(memberMessage.seq), {}, 400],
      [member.token, "PATCH", at("1e1"), { text: "ok" }, 400],
      [member.token, "DELETE", at(0), undefined, 400],
      [null, "DELETE", at(memberMessage.seq), undefined, 401],
    ];
    for (const [token, method, path, body, status] of refusals) {
      const answer = await api<{ error: { code: string } }>(token, method, path, body);
      expect(answer.status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 40)}`).toBe(status);
      expect(answer.body.error.code).toEqual(expect.any(String));
    }

    // Someone in the org but not in the chat: 403; someone outside the org: 404.
    const inOrg = unique("bystander");
    const inOrgToken = await tokenFor(inOrg);
    await api(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/members`, { userId: inOrg, role: "member" });
    expect((await api(inOrgToken, "DELETE", at(memberMessage.seq))).status).toBe(403);
    const outsider = await tokenFor(unique("outsider"));
    expect((await api(outsider, "PATCH", at(memberMessage.seq), { text: "hi" })).status).toBe(404);
    expect((await api(outsider, "POST", `/chats/${fixture.chatId}/summaries/rebuild`)).status).toBe(404);

    expect(await history(member.token, fixture.chatId)).toEqual(before);
    await new Promise((r) => setTimeout(r, 100));
    expect(edits(socket)).toHaveLength(0);
    expect(deletions(socket)).toHaveLength(0);
    socket.close();
    const outbox = await runInDurableObject(roomStub(fixture.chatId), (_room, state) =>
      state.storage.sql
        .exec<{ n: number }>("SELECT count(*) AS n FROM audit_outbox WHERE action LIKE 'message.%'")
        .one(),
    );
    expect(outbox.n).toBe(0);
  });
});
