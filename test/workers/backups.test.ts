/**
 * Backups to R2 and restores into a new chat, through the API and the real rooms: the same log byte for byte (a chat
 * larger than one chunk included), and a corrupt, truncated or missing object refused with nothing created.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../api/db/client";
import { chats } from "../../api/db/schema";
import type { ChatRoom } from "../../rooms/chat-room";
import { type ChatFixture, chatWithMembers, client, connect, expectStatus, unique } from "./helpers";

const service = (env as unknown as { TEST_SERVICE_URL: string }).TEST_SERVICE_URL;

function roomStub(chatId: string): DurableObjectStub<ChatRoom> {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}

/** Every row of the room's tables that a backup carries, as SQLite holds them. */
async function roomRows(chatId: string) {
  return runInDurableObject(roomStub(chatId), (_room, state) => {
    const all = (query: string) => state.storage.sql.exec(query).toArray();
    return {
      messages: all("SELECT * FROM messages ORDER BY seq"),
      summaries: all("SELECT * FROM summaries ORDER BY version"),
      approvals: all("SELECT * FROM approvals ORDER BY approval_id"),
      artifacts: all("SELECT * FROM artifacts ORDER BY artifact_id"),
    };
  });
}

async function backUp(fixture: ChatFixture) {
  const answer = await client(fixture.admin.token).api.chats[":chatId"].backups.$post({
    param: { chatId: fixture.chatId },
  });
  return (await (await expectStatus(answer, 201)).json()).backup;
}

function restore(fixture: ChatFixture, backupId: string) {
  return client(fixture.admin.token).api.orgs[":orgId"].chats.restore.$post({
    param: { orgId: fixture.orgId },
    json: { chatId: fixture.chatId, backupId },
  });
}

async function chatCount(orgId: string): Promise<number> {
  const { db, close } = openDatabase(env);
  try {
    return (
      await db
        .select({ n: count() })
        .from(chats)
        .where(and(eq(chats.orgId, orgId)))
    )[0].n;
  } finally {
    await close();
  }
}

describe("backups", () => {
  it("a chat of more than one chunk comes back byte for byte in a new chat, and new messages follow its last seq", {
    timeout: 120_000,
  }, async () => {
    const fixture = await chatWithMembers(1);
    const socket = await connect(fixture.chatId, fixture.members[0].token);
    for (let i = 1; i <= 1_050; i++) {
      socket.send({ type: "message", text: `note ${i} ✓`, clientMessageId: `n${i}` });
    }
    await socket.until((s) => s.of("message").some((m) => m.clientMessageId === "n1050"), "the last note", 60_000);
    socket.close();

    const backup = await backUp(fixture);
    const source = await roomRows(fixture.chatId);
    expect(backup).toMatchObject({ messages: source.messages.length, lastSeq: source.messages.length });
    expect(source.messages.length).toBeGreaterThanOrEqual(1_050);
    expect(source.summaries.length).toBeGreaterThan(0);
    const listed = await client(fixture.admin.token).api.chats[":chatId"].backups.$get({
      param: { chatId: fixture.chatId },
    });
    expect((await listed.json()).backups).toEqual([backup]);
    // Chunks of at most 1,000 messages.
    const objects = await env.BACKUPS.list({ prefix: `backups/${fixture.orgId}/${fixture.chatId}/${backup.id}/` });
    expect(objects.objects.map((o) => o.key.slice(o.key.lastIndexOf("/") + 1)).sort()).toEqual(
      [
        "approvals.jsonl.gz",
        "artifacts-0.jsonl.gz",
        "manifest.json",
        `messages-1-1000.jsonl.gz`,
        `messages-1001-${backup.lastSeq}.jsonl.gz`,
        "summaries.jsonl.gz",
      ].sort(),
    );
    // Its size is what its objects hold, the manifest apart.
    expect(backup.bytes).toBe(
      objects.objects.filter((o) => !o.key.endsWith("/manifest.json")).reduce((sum, o) => sum + o.size, 0),
    );

    const restored = await expectStatus(await restore(fixture, backup.id), 201);
    const { id } = await restored.json();
    expect(id).not.toBe(fixture.chatId);
    expect(await roomRows(id)).toEqual(source);
    // The restorer is its member; the log continues at the next seq.
    const posted = await client(fixture.admin.token).api.chats[":chatId"].messages.$post({
      param: { chatId: id },
      json: { text: "after the restore", clientMessageId: "after" },
    });
    expect((await (await expectStatus(posted, 201)).json()).message.seq).toBe(backup.lastSeq + 1);
    // Others are not members of the restored chat.
    const outsider = await client(fixture.members[0].token).api.chats[":chatId"].messages.$get({
      param: { chatId: id },
      query: {},
    });
    expect(outsider.status).toBe(403);
  });

  it("artifacts keep their ids and a pending approval comes back expired", { timeout: 60_000 }, async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("backup")}`;
    const api = client(fixture.admin.token).api;
    const created = await expectStatus(
      await api.orgs[":orgId"].agents.$post({
        param: { orgId: fixture.orgId },
        json: {
          name: "Ops",
          handle: "ops",
          tools: { http: { allow: [{ baseUrl: `${service}${prefix}`, methods: ["GET", "POST"] }] } },
        },
      }),
      201,
    );
    const { id: agentId } = await created.json();
    await api.chats[":chatId"].agents.$post({ param: { chatId: fixture.chatId }, json: { agentId } });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    socket.send({ type: "message", text: `@ops GET ${service}${prefix}/items`, clientMessageId: "g" });
    await socket.until((s) => s.of("run.finished").length === 1, "the GET");
    socket.send({ type: "message", text: `@ops POST ${service}${prefix}/items {"a":1}`, clientMessageId: "p" });
    await socket.until((s) => s.of("approval.requested").length === 1, "the approval request");
    socket.close();

    const backup = await backUp(fixture);
    const source = await roomRows(fixture.chatId);
    const { id } = await (await expectStatus(await restore(fixture, backup.id), 201)).json();
    const copy = await roomRows(id);
    expect(copy.messages).toEqual(source.messages);
    expect(copy.artifacts).toEqual(source.artifacts);
    expect(copy.artifacts).toHaveLength(1);
    expect(source.approvals.map((a) => a.status)).toEqual(["pending"]);
    expect(copy.approvals).toEqual([
      { ...source.approvals[0], status: "expired", decided_by: "parlor", agent_notified: 1 },
    ]);
    const artifactId = copy.artifacts[0].artifact_id as string;
    const artifact = await api.chats[":chatId"].artifacts[":artifactId"].$get({ param: { chatId: id, artifactId } });
    expect(artifact.status).toBe(200);
  });

  it("a corrupt, truncated or missing object, or no manifest, is refused with 422 and nothing is created", async () => {
    const fixture = await chatWithMembers(1);
    const api = client(fixture.admin.token).api;
    for (let i = 0; i < 5; i++) {
      await api.chats[":chatId"].messages.$post({
        param: { chatId: fixture.chatId },
        json: { text: `m${i}`, clientMessageId: `m${i}` },
      });
    }
    // Members (not admins) may not back up or list.
    const asMember = client(fixture.members[0].token).api.chats[":chatId"].backups;
    expect((await asMember.$post({ param: { chatId: fixture.chatId } })).status).toBe(403);
    expect((await asMember.$get({ param: { chatId: fixture.chatId } })).status).toBe(403);

    const before = await chatCount(fixture.orgId);
    const refused = async (backupId: string, why: RegExp) => {
      const answer = await restore(fixture, backupId);
      expect(answer.status).toBe(422);
      const body = (await answer.json()) as unknown as { error: { code: string; message: string } };
      expect(body.error.code).toBe("backup_corrupt");
      expect(body.error.message).toMatch(why);
      expect(await chatCount(fixture.orgId)).toBe(before);
    };
    const chunkOf = async (backupId: string) => {
      const prefix = `backups/${fixture.orgId}/${fixture.chatId}/${backupId}/`;
      const listed = await env.BACKUPS.list({ prefix });
      return listed.objects.map((o) => o.key).find((key) => key.includes("/messages-")) as string;
    };

    const corrupt = await backUp(fixture);
    const corruptKey = await chunkOf(corrupt.id);
    const bytes = new Uint8Array(await ((await env.BACKUPS.get(corruptKey)) as R2ObjectBody).arrayBuffer());
    bytes[bytes.length - 10] ^= 0xff;
    await env.BACKUPS.put(corruptKey, bytes);
    await refused(corrupt.id, /does not match its checksum/);

    await new Promise((r) => setTimeout(r, 1_100)); // snapshot ids are per second
    await api.chats[":chatId"].messages.$post({
      param: { chatId: fixture.chatId },
      json: { text: "x", clientMessageId: "x1" },
    });
    const truncated = await backUp(fixture);
    const truncatedKey = await chunkOf(truncated.id);
    const whole = new Uint8Array(await ((await env.BACKUPS.get(truncatedKey)) as R2ObjectBody).arrayBuffer());
    await env.BACKUPS.put(truncatedKey, whole.slice(0, whole.length - 20));
    await refused(truncated.id, /does not match its checksum/);

    await new Promise((r) => setTimeout(r, 1_100));
    await api.chats[":chatId"].messages.$post({
      param: { chatId: fixture.chatId },
      json: { text: "y", clientMessageId: "y1" },
    });
    const missing = await backUp(fixture);
    await env.BACKUPS.delete(await chunkOf(missing.id));
    await refused(missing.id, /is missing/);

    await env.BACKUPS.delete(`backups/${fixture.orgId}/${fixture.chatId}/${missing.id}/manifest.json`);
    await refused(missing.id, /no manifest/);
    // A backup id of another shape is a bad request, not a lookup.
    expect((await restore(fixture, "../../etc")).status).toBe(400);
  });

  it("a room that changed backs itself up on schedule and keeps the newest two", async () => {
    const fixture = await chatWithMembers(0);
    const api = client(fixture.admin.token).api;
    const room = roomStub(fixture.chatId);
    const snapshots = async () => {
      const listed = await api.chats[":chatId"].backups.$get({ param: { chatId: fixture.chatId } });
      return (await listed.json()).backups;
    };
    for (let round = 1; round <= 3; round++) {
      await api.chats[":chatId"].messages.$post({
        param: { chatId: fixture.chatId },
        json: { text: `round ${round}`, clientMessageId: `r${round}` },
      });
      // The hour since the last backup has passed, as far as this room knows.
      await runInDurableObject(room, (_r, state) =>
        state.storage.sql.exec("UPDATE room_meta SET value = json_set(value, '$.at', 0) WHERE key = 'last_backup'"),
      );
      await runDurableObjectAlarm(room);
      await new Promise((r) => setTimeout(r, 1_100)); // snapshot ids are per second
    }
    const kept = await snapshots();
    expect(kept.map((b) => b.lastSeq)).toEqual([3, 2]);
    // The schedule counts from the newest snapshot: nothing newer to back up now.
    const last = await runInDurableObject(room, (_r, state) =>
      String(state.storage.sql.exec("SELECT value FROM room_meta WHERE key = 'last_backup'").one().value),
    );
    expect(JSON.parse(last).seq).toBe(3);
  });
});
