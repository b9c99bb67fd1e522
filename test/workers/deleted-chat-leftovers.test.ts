/**
 * What a deleted chat leaves outside its room: the storage of the agents that ran in it (each keeps its runs'
 * conversations, the chat's words included) goes with the purge, and its backups cannot be restored into a new chat
 * while it waits for the purge (that would keep its words past it). `PARLOR_CHAT_DELETE_GRACE_DAYS` is about 4 s in
 * this run.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../api/db/client";
import { chats } from "../../api/db/schema";
import { agentInstanceName } from "../../protocol/agent-runs";
import { api, chatWithMembers, connect, eventually, unique } from "./helpers";

function agentStub(chatId: string, agentId: string): DurableObjectStub {
  return env.ChatAgent.get(env.ChatAgent.idFromName(agentInstanceName(chatId, agentId)));
}

/** Every run_state row of the agent's storage, as text (none if the table is gone). */
async function agentRunStates(chatId: string, agentId: string): Promise<string[]> {
  return runInDurableObject(agentStub(chatId, agentId), (_agent, state) => {
    const sql = state.storage.sql;
    const hasTable = sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'run_state'").toArray().length > 0;
    return hasTable
      ? sql
          .exec<{ state: string }>("SELECT state FROM run_state")
          .toArray()
          .map((r) => r.state)
      : [];
  });
}

const service = (env as unknown as { TEST_SERVICE_URL: string }).TEST_SERVICE_URL;

describe("purging a deleted chat", () => {
  it("also deletes what its agents stored of its runs (a run waiting for a decision keeps its conversation)", async () => {
    const { orgId, chatId, admin, members } = await chatWithMembers(1);
    const prefix = `/purge-${unique("p")}`;
    const agent = await api<{ id: string }>(admin.token, "POST", `/orgs/${orgId}/agents`, {
      name: "Ops",
      handle: "ops",
      tools: { http: { allow: [{ baseUrl: `${service}${prefix}`, methods: ["POST"] }] } },
    });
    expect(agent.status).toBe(201);
    expect((await api(admin.token, "POST", `/chats/${chatId}/agents`, { agentId: agent.body.id })).status).toBe(201);
    const word = `qzj${crypto.randomUUID().replaceAll("-", "").slice(0, 10).replace(/\d/g, "x")}`;
    const socket = await connect(chatId, members[0].token);
    socket.send({
      type: "message",
      text: `@ops POST ${service}${prefix}/items {"note":"${word}"}`,
      clientMessageId: unique("m"),
    });
    await socket.until((s) => s.of("approval.requested").length === 1, "the approval request");
    socket.close();
    await eventually(
      async () => (await agentRunStates(chatId, agent.body.id)).join("\n"),
      (text) => text.includes(word),
      "the waiting run's saved conversation",
    );

    expect((await api(admin.token, "DELETE", `/chats/${chatId}`)).status).toBe(200);
    const { db, close } = openDatabase(env);
    try {
      await eventually(
        () => db.select({ id: chats.id }).from(chats).where(eq(chats.id, chatId)),
        (rows) => rows.length === 0,
        "the chat's row to be purged",
        20_000,
      );
    } finally {
      await close();
    }
    const left = await eventually(
      () => agentRunStates(chatId, agent.body.id),
      (states) => states.length === 0,
      "the agent's run state to be purged",
    );
    expect(left).toEqual([]);
  }, 40_000);

  it("its backups cannot be restored into a new chat while it waits for the purge; restored, they can again", async () => {
    const { orgId, chatId, admin, members } = await chatWithMembers(1);
    expect(
      (
        await api(members[0].token, "POST", `/chats/${chatId}/messages`, {
          text: "keep?",
          clientMessageId: unique("m"),
        })
      ).status,
    ).toBe(201);
    const backup = await api<{ backup: { id: string } }>(admin.token, "POST", `/chats/${chatId}/backups`);
    expect(backup.status).toBe(201);
    const restore = () =>
      api<{ id: string }>(admin.token, "POST", `/orgs/${orgId}/chats/restore`, {
        chatId,
        backupId: backup.body.backup.id,
      });
    const chatsBefore = await orgChatCount(orgId);

    expect((await api(admin.token, "DELETE", `/chats/${chatId}`)).status).toBe(200);
    const refused = await restore();
    expect(refused.status).toBe(404);
    expect(await orgChatCount(orgId)).toBe(chatsBefore);

    expect((await api(admin.token, "POST", `/chats/${chatId}/restore-deleted`)).status).toBe(200);
    expect((await restore()).status).toBe(201);
  });
});

describe("a chat whose room was never told which chat it serves", () => {
  it("is purged all the same once deleted (a chat made before rooms were activated at creation)", async () => {
    const { orgId, admin } = await chatWithMembers(0);
    const { db, close } = openDatabase(env);
    try {
      const [legacy] = await db
        .insert(chats)
        .values({ orgId, title: "legacy", createdBy: admin.userId })
        .returning({ id: chats.id });
      expect((await api(admin.token, "DELETE", `/chats/${legacy.id}`)).status).toBe(200);
      await eventually(
        () => db.select({ id: chats.id }).from(chats).where(eq(chats.id, legacy.id)),
        (rows) => rows.length === 0,
        "the legacy chat's row to be purged",
        20_000,
      );
    } finally {
      await close();
    }
  }, 30_000);
});

async function orgChatCount(orgId: string): Promise<number> {
  const { db, close } = openDatabase(env);
  try {
    return (await db.select({ id: chats.id }).from(chats).where(eq(chats.orgId, orgId))).length;
  } finally {
    await close();
  }
}
