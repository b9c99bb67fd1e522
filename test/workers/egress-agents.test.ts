/**
 * Egress through a real run: the org's settings, read when a call is sent, hold over the agent's allow list, and a
 * GET's redirects are followed by hand with secret headers dropped off-origin.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../api/db/client";
import { orgEgress } from "../../api/db/schema";
import type { ChatRoom } from "../../rooms/chat-room";
import { api, type ChatFixture, chatWithMembers, connect, eventually, type TestSocket, unique } from "./helpers";

const service = (env as unknown as { TEST_SERVICE_URL: string }).TEST_SERVICE_URL;
const otherOrigin = service.replace("127.0.0.1", "localhost");
type Recorded = { method: string; path: string; headers: Record<string, string> };

async function received(prefix: string): Promise<Recorded[]> {
  const response = await fetch(`${service}/__requests?prefix=${encodeURIComponent(prefix)}`);
  return ((await response.json()) as { requests: Recorded[] }).requests;
}

async function setOrgEgress(orgId: string, settings: { denyHosts?: string[]; allowHosts?: string[] }) {
  const { db, close } = openDatabase(env as unknown as Env);
  try {
    const row = { allowHosts: settings.allowHosts ?? [], denyHosts: settings.denyHosts ?? [], allowPorts: [] };
    await db
      .insert(orgEgress)
      .values({ orgId, ...row })
      .onConflictDoUpdate({ target: orgEgress.orgId, set: row });
  } finally {
    await close();
  }
}

async function opsAgent(fixture: ChatFixture, bases: string[]): Promise<void> {
  const created = await api<{ id: string }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/agents`, {
    name: "Ops",
    handle: "ops",
    tools: {
      http: {
        allow: bases.map((baseUrl) => ({ baseUrl, methods: ["GET", "POST"] })),
        headers: { "X-Token": "agent-token-123" },
      },
    },
  });
  expect(created.status).toBe(201);
  await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/agents`, { agentId: created.body.id });
}

const ended = (s: TestSocket) => s.of("run.finished").length + s.of("run.failed").length > 0;
const agentReply = (s: TestSocket) => s.of("message").find((m) => m.author.type === "agent");

describe("egress in runs", () => {
  it("the org's deny list refuses a GET the agent's allow list names; nothing is sent", async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("deny")}`;
    await opsAgent(fixture, [`${service}${prefix}`]);
    await setOrgEgress(fixture.orgId, { denyHosts: ["127.0.0.1"] });
    const socket = await connect(fixture.chatId, fixture.admin.token);
    socket.send({ type: "message", text: `@ops GET ${service}${prefix}/items`, clientMessageId: "d" });
    await socket.until(ended, "the run");
    expect(socket.of("run.tool").at(-1)).toMatchObject({ status: "failed" });
    expect(agentReply(socket)?.text).toMatch(/deny list/);
    expect(await received(prefix)).toEqual([]);
    // The refusal is audited as the agent's, with its reason, once its minute is over.
    const room = (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(fixture.chatId);
    await runInDurableObject(room, (_r, state) => state.storage.sql.exec("UPDATE audit_outbox SET due_at = 0"));
    const entries = await eventually(
      async () => {
        await runDurableObjectAlarm(room);
        return (
          await api<{ entries: { actor: { type: string }; target: string; outcome: string }[] }>(
            fixture.admin.token,
            "GET",
            `/orgs/${fixture.orgId}/audit?action=egress.refused`,
          )
        ).body.entries;
      },
      (found) => found.length === 1,
      "the refusal in the audit log",
    );
    expect(entries[0]).toMatchObject({ actor: { type: "agent" }, outcome: "refused" });
    expect(entries[0].target).toMatch(/127\.0\.0\.1 is on this org's deny list/);
  });

  it("a GET follows a redirect to another allowed origin without the agent's secret headers", async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("hop")}`;
    await opsAgent(fixture, [`${service}${prefix}`, `${otherOrigin}${prefix}`]);
    const socket = await connect(fixture.chatId, fixture.admin.token);
    const to = encodeURIComponent(`${otherOrigin}${prefix}/items`);
    socket.send({ type: "message", text: `@ops GET ${service}${prefix}/redirect-to?to=${to}`, clientMessageId: "h" });
    await socket.until(ended, "the run");
    expect(agentReply(socket)?.text).toBe("The request returned 200.");
    const seen = await received(prefix);
    expect(seen.map((r) => r.path)).toEqual([`${prefix}/redirect-to`, `${prefix}/items`]);
    expect(seen[0].headers["x-token"]).toBe("agent-token-123");
    expect(seen[1].headers["x-token"]).toBeUndefined();
  });

  it("the org's deny list refuses an approved POST when it is sent", async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("approved")}`;
    await opsAgent(fixture, [`${service}${prefix}`]);
    const socket = await connect(fixture.chatId, fixture.admin.token);
    socket.send({ type: "message", text: `@ops POST ${service}${prefix}/items {"a":1}`, clientMessageId: "p" });
    await socket.until((s) => s.of("approval.requested").length === 1, "the approval request");
    await setOrgEgress(fixture.orgId, { denyHosts: ["127.0.0.1"] });
    socket.send({ type: "approval", approvalId: socket.of("approval.requested")[0].approvalId, decision: "approve" });
    await socket.until(ended, "the run");
    expect(await received(prefix)).toEqual([]);
  });
});
