/**
 * The audit log: what rooms write through their outbox (decisions, expiries, refusals, an admin's stop), refusals
 * counted once a minute, and tampering of every kind detected by the chain and the signed checkpoint.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { appendAuditAlone } from "../../api/audit/append";
import { type AuditCheckpoints, checkpointNow } from "../../api/audit/checkpoint-keeper";
import { openDatabase } from "../../api/db/client";
import { auditEntries } from "../../api/db/schema";
import type { AuditEntry } from "../../protocol/audit";
import type { ChatRoom } from "../../rooms/chat-room";
import {
  type ChatFixture,
  chatWithMembers,
  client,
  connect,
  eventually,
  expectStatus,
  type TestSocket,
  unique,
} from "./helpers";

const service = (env as unknown as { TEST_SERVICE_URL: string }).TEST_SERVICE_URL;

function keeperOf(orgId: string): DurableObjectStub<AuditCheckpoints> {
  return (env.AuditCheckpoints as DurableObjectNamespace<AuditCheckpoints>).getByName(orgId);
}

function roomStub(chatId: string): DurableObjectStub<ChatRoom> {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}

async function entries(fixture: ChatFixture, action?: AuditEntry["action"]): Promise<AuditEntry[]> {
  const answer = await client(fixture.admin.token).api.orgs[":orgId"].audit.$get({
    param: { orgId: fixture.orgId },
    query: action ? { action } : {},
  });
  return (await (await expectStatus(answer, 200)).json()).entries;
}

async function verify(fixture: ChatFixture) {
  const answer = await client(fixture.admin.token).api.orgs[":orgId"].audit.verify.$get({
    param: { orgId: fixture.orgId },
  });
  return (await expectStatus(answer, 200)).json();
}

/** An agent that may POST to this test's path on the test service, each POST asking for approval. */
async function opsAgent(fixture: ChatFixture, prefix: string): Promise<string> {
  const api = client(fixture.admin.token).api;
  const created = await expectStatus(
    await api.orgs[":orgId"].agents.$post({
      param: { orgId: fixture.orgId },
      json: {
        name: "Ops",
        handle: "ops",
        tools: { http: { allow: [{ baseUrl: `${service}${prefix}`, methods: ["POST"] }] } },
      },
    }),
    201,
  );
  const { id } = await created.json();
  await expectStatus(
    await api.chats[":chatId"].agents.$post({ param: { chatId: fixture.chatId }, json: { agentId: id } }),
    201,
  );
  return id;
}

async function askApproval(socket: TestSocket, prefix: string): Promise<string> {
  const before = socket.of("approval.requested").length;
  socket.send({ type: "message", text: `@ops POST ${service}${prefix}/items {"a":1}`, clientMessageId: unique("p") });
  await socket.until((s) => s.of("approval.requested").length > before, "the approval request");
  return socket.of("approval.requested")[before].approvalId;
}

/** Runs the room's alarm until its outbox is empty: the room's events have reached the log. */
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

describe("what rooms write to the audit log", () => {
  it("approvals approved, denied and expired, each once, by whom", async () => {
    const fixture = await chatWithMembers(1);
    const prefix = `/${unique("audit")}`;
    const agentId = await opsAgent(fixture, prefix);
    const socket = await connect(fixture.chatId, fixture.admin.token);
    const approved = await askApproval(socket, prefix);
    socket.send({ type: "approval", approvalId: approved, decision: "approve" });
    await socket.until((s) => s.of("run.finished").length === 1, "the approved run");
    const denied = await askApproval(socket, prefix);
    socket.send({ type: "approval", approvalId: denied, decision: "deny" });
    await socket.until((s) => s.of("run.finished").length === 2, "the denied run");
    const expired = await askApproval(socket, prefix);
    await runInDurableObject(roomStub(fixture.chatId), (_r, state) => {
      state.storage.sql.exec(
        "UPDATE approvals SET expires_at = ? WHERE approval_id = ?",
        new Date(Date.now() - 1000).toISOString(),
        expired,
      );
    });
    await runDurableObjectAlarm(roomStub(fixture.chatId));
    await socket.until((s) => s.of("run.finished").length === 3, "the expired run");
    await flushOutbox(fixture.chatId);
    // A second delivery of the same events (a crash after writing, before the outbox row was deleted) adds nothing.
    const { db, close } = openDatabase(env);
    try {
      const repeat = await appendAuditAlone(db, {
        orgId: fixture.orgId,
        actor: { type: "user", id: fixture.admin.userId },
        action: "approval.approved",
        target: "ignored",
        eventKey: `room:${fixture.chatId}:approval:${approved}`,
      });
      expect(repeat).toBeNull();
    } finally {
      await close();
    }

    const origin = new URL(service).origin;
    const byAction = (action: AuditEntry["action"]) => entries(fixture, action);
    expect(await byAction("approval.approved")).toEqual([
      expect.objectContaining({
        actor: { type: "user", id: fixture.admin.userId },
        target: `approval:${approved} agent:${agentId} POST ${origin}`,
        outcome: "success",
        count: 1,
      }),
    ]);
    expect(await byAction("approval.denied")).toEqual([
      expect.objectContaining({
        actor: { type: "user", id: fixture.admin.userId },
        target: expect.stringContaining(denied),
      }),
    ]);
    expect(await byAction("approval.expired")).toEqual([
      expect.objectContaining({ actor: { type: "system", id: "parlor" }, target: expect.stringContaining(expired) }),
    ]);
    // Request bodies and paths (which a model wrote) stay out of the log.
    expect(JSON.stringify(await entries(fixture))).not.toContain("/items");
    expect(await verify(fixture)).toMatchObject({ ok: true, firstBad: null });
    socket.close();
  });

  it("refused runs are written once a minute per member and reason, with how many there were", async () => {
    const fixture = await chatWithMembers(1);
    const api = client(fixture.admin.token).api;
    const created = await expectStatus(
      await api.orgs[":orgId"].agents.$post({
        param: { orgId: fixture.orgId },
        json: { name: "Helper", handle: "helper", model: "parlor-local:0" },
      }),
      201,
    );
    const { id: agentId } = await created.json();
    await api.chats[":chatId"].agents.$post({ param: { chatId: fixture.chatId }, json: { agentId } });
    const [member] = fixture.members;
    await expectStatus(
      await api.orgs[":orgId"].members[":userId"].limits.$put({
        param: { orgId: fixture.orgId, userId: member.userId },
        json: { agentRunsPerPeriod: 0 },
      }),
      200,
    );
    const socket = await connect(fixture.chatId, member.token);
    for (let i = 0; i < 5; i++) {
      socket.send({ type: "message", text: "@helper hi", clientMessageId: unique("r") });
    }
    await socket.until((s) => s.of("error").length === 5, "five refusals");
    // The minute is not over: nothing is written yet. Then it is.
    expect(await entries(fixture, "run.refused")).toEqual([]);
    await runInDurableObject(roomStub(fixture.chatId), (_r, state) => {
      state.storage.sql.exec("UPDATE audit_outbox SET due_at = 0");
    });
    await flushOutbox(fixture.chatId);
    expect(await entries(fixture, "run.refused")).toEqual([
      expect.objectContaining({
        actor: { type: "user", id: member.userId },
        target: `agent:${agentId} quota_exceeded`,
        outcome: "refused",
        count: 5,
        requestId: null,
      }),
    ]);
    socket.close();
  });

  it("an admin stopping someone else's run is written; stopping one's own is not", async () => {
    const fixture = await chatWithMembers(1);
    const api = client(fixture.admin.token).api;
    const created = await expectStatus(
      await api.orgs[":orgId"].agents.$post({
        param: { orgId: fixture.orgId },
        json: { name: "Slow", handle: "slow", model: "parlor-local:100" },
      }),
      201,
    );
    const { id: agentId } = await created.json();
    await api.chats[":chatId"].agents.$post({ param: { chatId: fixture.chatId }, json: { agentId } });
    const member = await connect(fixture.chatId, fixture.members[0].token);
    member.send({ type: "message", text: "@slow clock: 100", clientMessageId: unique("s") });
    await member.until((s) => s.of("run.started").length === 1, "the run");
    const runId = member.of("run.started")[0].runId;
    await expectStatus(
      await api.chats[":chatId"].runs[":runId"].stop.$post({ param: { chatId: fixture.chatId, runId } }),
      200,
    );
    member.send({ type: "message", text: "@slow clock: 100", clientMessageId: unique("s") });
    await member.until((s) => s.of("run.started").length === 2, "the second run");
    member.send({ type: "stop", runId: member.of("run.started")[1].runId });
    await member.until((s) => s.of("run.finished").length === 2, "both stops");
    await flushOutbox(fixture.chatId);
    expect(await entries(fixture, "run.stopped_by_admin")).toEqual([
      expect.objectContaining({
        actor: { type: "user", id: fixture.admin.userId },
        target: `run:${runId} agent:${agentId} initiator:${fixture.members[0].userId}`,
      }),
    ]);
    member.close();
  });
});

describe("reading the log", () => {
  it("only the org's admins read it, newest first, paged", async () => {
    const fixture = await chatWithMembers(1);
    const outsider = await chatWithMembers(0);
    const asMember = client(fixture.members[0].token).api.orgs[":orgId"].audit;
    expect((await asMember.$get({ param: { orgId: fixture.orgId }, query: {} })).status).toBe(403);
    expect((await asMember.verify.$get({ param: { orgId: fixture.orgId } })).status).toBe(403);
    const asOutsider = client(outsider.admin.token).api.orgs[":orgId"].audit;
    expect((await asOutsider.$get({ param: { orgId: fixture.orgId }, query: {} })).status).toBe(404);
    await appendMany(fixture, 5);
    const all = await entries(fixture);
    expect(all.map((e) => e.seq)).toEqual([...all.map((e) => e.seq)].sort((a, b) => b - a));
    const page = await client(fixture.admin.token).api.orgs[":orgId"].audit.$get({
      param: { orgId: fixture.orgId },
      query: { before: String(all[1].seq), limit: "2" },
    });
    expect((await page.json()).entries.map((e) => e.seq)).toEqual([all[2].seq, all[3].seq]);
    const bad = await client(fixture.admin.token).api.orgs[":orgId"].audit.$get({
      param: { orgId: fixture.orgId },
      query: { action: "no.such.action" as "org.created" },
    });
    expect(bad.status).toBe(400);
  });
});

/** Writes `n` entries straight to the log, as any audited change would. */
async function appendMany(fixture: ChatFixture, n: number): Promise<void> {
  const { db, close } = openDatabase(env);
  try {
    for (let i = 0; i < n; i++) {
      await appendAuditAlone(db, {
        orgId: fixture.orgId,
        actor: { type: "user", id: fixture.admin.userId },
        action: "chat.member_added",
        target: `user:filler-${i}`,
      });
    }
  } finally {
    await close();
  }
}

/** Changes the log as someone with the database's keys could: the append-only trigger switched off. */
type Tx = Parameters<Parameters<ReturnType<typeof openDatabase>["db"]["transaction"]>[0]>[0];

async function tamper(change: (tx: Tx) => Promise<unknown>) {
  const { db, close } = openDatabase(env);
  try {
    await db.transaction(async (tx) => {
      await tx.execute(sql`ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only`);
      try {
        await change(tx);
      } finally {
        await tx.execute(sql`ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only`);
      }
    });
  } finally {
    await close();
  }
}

describe("tampering", () => {
  it("the log refuses edits and deletes from the application's own connection", async () => {
    const fixture = await chatWithMembers(0);
    await appendMany(fixture, 1);
    const { db, close } = openDatabase(env);
    try {
      await expect(
        db.update(auditEntries).set({ target: "rewritten" }).where(eq(auditEntries.orgId, fixture.orgId)),
      ).rejects.toThrow();
      await expect(db.delete(auditEntries).where(eq(auditEntries.orgId, fixture.orgId))).rejects.toThrow();
    } finally {
      await close();
    }
    expect(await verify(fixture)).toMatchObject({ ok: true });
  });

  it("an edited, removed, inserted or reordered entry is named", async () => {
    const at = (orgId: string, seq: number) => and(eq(auditEntries.orgId, orgId), eq(auditEntries.seq, seq));

    const edited = await chatWithMembers(0);
    await appendMany(edited, 5);
    const editedSeq = (await entries(edited))[2].seq;
    await tamper((tx) =>
      tx.update(auditEntries).set({ target: "user:someone-else" }).where(at(edited.orgId, editedSeq)),
    );
    expect(await verify(edited)).toMatchObject({ ok: false, firstBad: editedSeq });

    const removed = await chatWithMembers(0);
    await appendMany(removed, 5);
    const removedSeq = (await entries(removed))[2].seq;
    await tamper((tx) => tx.delete(auditEntries).where(at(removed.orgId, removedSeq)));
    expect(await verify(removed)).toMatchObject({ ok: false, firstBad: removedSeq });

    // Inserted: everything from the insertion point is moved up one; the inserted entry is chained to the one
    // before it, but the old entry that follows it still points at the old hash.
    const inserted = await chatWithMembers(0);
    await appendMany(inserted, 5);
    const list = (await entries(inserted)).reverse();
    const insertAt = list[2].seq;
    await tamper(async (tx) => {
      await tx.execute(
        sql`UPDATE audit_entries SET seq = seq + 1000 WHERE org_id = ${inserted.orgId} AND seq >= ${insertAt}`,
      );
      await tx.execute(
        sql`UPDATE audit_entries SET seq = seq - 999 WHERE org_id = ${inserted.orgId} AND seq >= ${insertAt + 1000}`,
      );
      const forged = list[1];
      await tx.insert(auditEntries).values({
        orgId: inserted.orgId,
        seq: insertAt,
        at: new Date(),
        actorType: "user",
        actorId: "intruder",
        action: "member.added",
        target: "user:intruder",
        requestId: null,
        outcome: "success",
        count: 1,
        eventKey: null,
        prevHash: forged.hash,
        hash: "f".repeat(64),
      });
    });
    expect(await verify(inserted)).toMatchObject({ ok: false, firstBad: insertAt });

    const reordered = await chatWithMembers(0);
    await appendMany(reordered, 5);
    const ordered = (await entries(reordered)).reverse();
    const [a, b] = [ordered[2].seq, ordered[3].seq];
    await tamper(async (tx) => {
      await tx.execute(sql`UPDATE audit_entries SET seq = -1 WHERE org_id = ${reordered.orgId} AND seq = ${a}`);
      await tx.execute(sql`UPDATE audit_entries SET seq = ${a} WHERE org_id = ${reordered.orgId} AND seq = ${b}`);
      await tx.execute(sql`UPDATE audit_entries SET seq = ${b} WHERE org_id = ${reordered.orgId} AND seq = -1`);
    });
    expect(await verify(reordered)).toMatchObject({ ok: false, firstBad: a });
  });

  it("a signed checkpoint catches a rewritten chain and a log cut short before it", async () => {
    const fixture = await chatWithMembers(0);
    await appendMany(fixture, 6);
    // The requests that made the org scheduled a checkpoint: it is written now, not in the middle of the test.
    await runDurableObjectAlarm(keeperOf(fixture.orgId));
    await checkpointNow(env, fixture.orgId);
    const head = (await entries(fixture))[0].seq;
    expect(await env.BACKUPS.get(`audit/${fixture.orgId}/${head}.json`)).not.toBeNull();
    expect(await verify(fixture)).toMatchObject({ ok: true, checkpoint: head });
    // More entries after it: still fine, and not covered by it until the next checkpoint.
    await appendMany(fixture, 2);
    expect(await verify(fixture)).toMatchObject({ ok: true, checkpoint: head });

    // The whole chain rewritten consistently from entry 3 on (hashes recomputed): only the checkpoint can tell.
    const { entryHash } = await import("../../api/audit/chain");
    await tamper(async (tx) => {
      const rows = await tx
        .select()
        .from(auditEntries)
        .where(eq(auditEntries.orgId, fixture.orgId))
        .orderBy(auditEntries.seq);
      let prevHash = rows[1].hash;
      for (const row of rows.slice(2)) {
        const target = row.seq === 3 ? "user:rewritten" : row.target;
        const hash = await entryHash({
          orgId: fixture.orgId,
          seq: row.seq,
          at: row.at.getTime(),
          actor: { type: row.actorType as "user", id: row.actorId },
          action: row.action,
          target,
          requestId: row.requestId,
          outcome: row.outcome,
          count: row.count,
          prevHash,
        });
        await tx
          .update(auditEntries)
          .set({ target, prevHash, hash })
          .where(and(eq(auditEntries.orgId, fixture.orgId), eq(auditEntries.seq, row.seq)));
        prevHash = hash;
      }
      await tx.execute(sql`UPDATE audit_heads SET hash = ${prevHash} WHERE org_id = ${fixture.orgId}`);
    });
    expect(await verify(fixture)).toMatchObject({ ok: false, firstBad: head });

    // Cut short: the entries from just before the checkpoint's head on are gone, the head row moved back to match.
    const cut = await chatWithMembers(0);
    await appendMany(cut, 4);
    await runDurableObjectAlarm(keeperOf(cut.orgId));
    await checkpointNow(env, cut.orgId);
    const cutHead = (await verify(cut)).checkpoint as number;
    expect(cutHead).toBe((await entries(cut))[0].seq);
    await tamper(async (tx) => {
      await tx.delete(auditEntries).where(and(eq(auditEntries.orgId, cut.orgId), sql`seq >= ${cutHead - 1}`));
      const [last] = await tx
        .select()
        .from(auditEntries)
        .where(and(eq(auditEntries.orgId, cut.orgId), eq(auditEntries.seq, cutHead - 2)));
      await tx.execute(
        sql`UPDATE audit_heads SET seq = ${cutHead - 2}, hash = ${last.hash} WHERE org_id = ${cut.orgId}`,
      );
    });
    expect(await verify(cut)).toMatchObject({ ok: false, firstBad: cutHead - 1 });
  });

  it("a checkpoint forged without the key does not verify", async () => {
    const fixture = await chatWithMembers(0);
    await appendMany(fixture, 2);
    const head = (await entries(fixture))[0];
    const { privateKey } = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const checkpoint = { orgId: fixture.orgId, seq: head.seq, hash: head.hash, at: Date.now(), previous: null };
    const { default: canonicalize } = await import("canonicalize");
    const signature = new Uint8Array(
      await crypto.subtle.sign({ name: "Ed25519" }, privateKey, new TextEncoder().encode(canonicalize(checkpoint))),
    );
    await env.BACKUPS.put(
      `audit/${fixture.orgId}/${head.seq}.json`,
      JSON.stringify({ ...checkpoint, signature: btoa(String.fromCharCode(...signature)) }),
    );
    expect(await verify(fixture)).toMatchObject({ ok: false, firstBad: head.seq });
  });
});
