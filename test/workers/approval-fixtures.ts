/**
 * Approval fixtures for workerd tests: an agent on the built-in model whose POSTs to the test service wait for
 * approval, the request that asks for one, votes over REST, and what the room and the audit log say after.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { Approval } from "../../protocol/agents";
import type { AuditAction, AuditEntry } from "../../protocol/audit";
import type { ChatRoom } from "../../rooms/chat-room";
import { api, type ChatFixture, connect, eventually, type TestSocket, unique } from "./helpers";

export const service = (env as unknown as { TEST_SERVICE_URL: string }).TEST_SERVICE_URL;

/** The requests the test service received under `prefix`. */
export async function received(prefix: string): Promise<{ method: string; path: string }[]> {
  const response = await fetch(`${service}/__requests?prefix=${encodeURIComponent(prefix)}`);
  return ((await response.json()) as { requests: { method: string; path: string }[] }).requests;
}

export function roomStub(chatId: string): DurableObjectStub<ChatRoom> {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}

/** An agent on the built-in model whose POSTs to this test's path wait for approval under `approval`. */
export async function opsAgent(fixture: ChatFixture, prefix: string, approval: object) {
  return api<{ id: string; error?: { code: string; message: string } }>(
    fixture.admin.token,
    "POST",
    `/orgs/${fixture.orgId}/agents`,
    {
      name: "Ops",
      handle: "ops",
      tools: { http: { allow: [{ baseUrl: `${service}${prefix}`, methods: ["POST"] }], approval } },
    },
  );
}

/** `opsAgent`, created and added to the fixture's chat; its id. */
export async function addOpsAgent(fixture: ChatFixture, prefix: string, approval: object): Promise<string> {
  const created = await opsAgent(fixture, prefix, approval);
  expect(created.status).toBe(201);
  await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/agents`, { agentId: created.body.id });
  return created.body.id;
}

/** Asks @ops for a POST under `prefix` and waits for the (first) approval request. */
export async function askApproval(socket: TestSocket, prefix: string): Promise<{ approvalId: string; runId: string }> {
  socket.send({ type: "message", text: `@ops POST ${service}${prefix}/items {"a":1}`, clientMessageId: unique("p") });
  await socket.until((s) => s.of("approval.requested").length === 1, "the approval request");
  const { approvalId, runId } = socket.of("approval.requested")[0];
  return { approvalId, runId };
}

/** An ops agent with this approval policy in the chat, the admin's socket, and the approval its first POST asks for. */
export async function pendingApproval(fixture: ChatFixture, prefix: string, approval: object) {
  await addOpsAgent(fixture, prefix, approval);
  const socket = await connect(fixture.chatId, fixture.admin.token);
  return { socket, ...(await askApproval(socket, prefix)) };
}

export function vote(token: string, fixture: ChatFixture, approvalId: string, decision: "approve" | "deny") {
  return api<{ approval: Approval }>(token, "POST", `/chats/${fixture.chatId}/approvals/${approvalId}`, { decision });
}

/** The chat's approvals, as its admin lists them. */
export async function approvals(fixture: ChatFixture): Promise<Approval[]> {
  const answer = await api<{ approvals: Approval[] }>(fixture.admin.token, "GET", `/chats/${fixture.chatId}/approvals`);
  expect(answer.status).toBe(200);
  return answer.body.approvals;
}

/** Makes a member of the fixture's org an admin or a member again, as its admin does. */
export function setRole(fixture: ChatFixture, userId: string, role: "admin" | "member") {
  return api(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/members`, { userId, role });
}

/** Moves the approvals' stored times (reminder, expiry) into the past, without running the alarm. */
export async function backdate(chatId: string, columns: ("remind_at" | "expires_at")[]): Promise<void> {
  const past = new Date(Date.now() - 1000).toISOString();
  await runInDurableObject(roomStub(chatId), (_room, state) => {
    for (const column of columns) state.storage.sql.exec(`UPDATE approvals SET ${column} = ?`, past);
  });
}

/** Moves the approval's stored times (reminder, expiry) into the past, as the alarm would find them later. */
export async function moveTimes(chatId: string, columns: ("remind_at" | "expires_at")[]): Promise<void> {
  await backdate(chatId, columns);
  await runDurableObjectAlarm(roomStub(chatId));
}

/** Runs the room's alarm (which sends its audit outbox) until the org's log has one `action` entry; the entries. */
export async function auditedOnce(fixture: ChatFixture, action: AuditAction, what: string): Promise<AuditEntry[]> {
  return eventually(
    async () => {
      await runDurableObjectAlarm(roomStub(fixture.chatId));
      const answer = await api<{ entries: AuditEntry[] }>(
        fixture.admin.token,
        "GET",
        `/orgs/${fixture.orgId}/audit?action=${action}`,
      );
      return answer.body.entries;
    },
    (found) => found.length === 1,
    what,
  );
}

export const ended = (s: TestSocket) => s.of("run.finished").length + s.of("run.failed").length > 0;

/** The texts of the chat's system notices the socket received. */
export const notices = (s: TestSocket) =>
  s
    .of("message")
    .filter((m) => m.author.type === "system")
    .map((m) => m.text);
