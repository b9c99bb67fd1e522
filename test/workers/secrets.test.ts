import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { LanguageModelV4CallOptions } from "@ai-sdk/provider";
import { MockLanguageModelV4 } from "ai/test";
import { and, eq } from "drizzle-orm";
import { getServerByName } from "partyserver";
import { describe, expect, it, vi } from "vitest";
import { localModel } from "../../agents/local-model";
import { registerModel } from "../../agents/models";
import { encodingsOf } from "../../agents/tools/redaction";
import { openDatabase } from "../../api/db/client";
import { agents, secrets } from "../../api/db/schema";
import type { ChatProgress } from "../../rooms/chat-progress";
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

const service = (env as unknown as { TEST_SERVICE_URL: string }).TEST_SERVICE_URL;
type Recorded = { method: string; path: string; body: string; headers: Record<string, string> };

async function received(prefix: string): Promise<Recorded[]> {
  const response = await fetch(`${service}/__requests?prefix=${encodeURIComponent(prefix)}`);
  return ((await response.json()) as { requests: Recorded[] }).requests;
}

/** The built-in model, with every prompt it is given kept for the test to read. */
const prompts: LanguageModelV4CallOptions[] = [];
registerModel("test:secrets-capture", () => {
  const inner = localModel({ delayMs: 0 });
  return new MockLanguageModelV4({
    doStream: async (options) => {
      prompts.push(options);
      return inner.doStream(options);
    },
  });
});

const ended = (s: TestSocket) => s.of("run.finished").length + s.of("run.failed").length > 0;
type Secret = { name: string; grants: object; createdAt: string; updatedAt: string; lastUsedAt: string | null };

async function addSecret(fixture: ChatFixture, name: string, value: string, grants: object = { chats: "all" }) {
  return api<{ secret: Secret }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/secrets`, {
    name,
    value,
    grants,
  });
}

/** An agent whose X-Token header uses the secret, allowed to reach this test's own path of the service. */
async function echoAgent(fixture: ChatFixture, prefix: string, header = "Bearer {{secret:ECHO_TOKEN}}") {
  const created = await api<{ id: string }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/agents`, {
    name: "Echo",
    handle: "echo",
    model: "test:secrets-capture",
    tools: {
      http: { allow: [{ baseUrl: `${service}${prefix}`, methods: ["GET", "POST"] }], headers: { "X-Token": header } },
    },
  });
  expect(created.status).toBe(201);
  await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/agents`, { agentId: created.body.id });
  return created.body.id;
}

async function runTurn(fixture: ChatFixture, text: string): Promise<TestSocket> {
  const socket = await connect(fixture.chatId, fixture.admin.token);
  socket.send({ type: "message", text, clientMessageId: unique("m") });
  await socket.until(ended, "the run");
  return socket;
}

function leaked(text: string, value: string): string[] {
  return [...encodingsOf(value)].filter((form) => text.includes(form));
}

describe("secrets", () => {
  it("admins store, list, change and delete secrets; no answer ever holds a value", async () => {
    const fixture = await chatWithMembers(1);
    const value = `v-${unique("crud")}`;
    const created = await addSecret(fixture, "GITHUB", value, { chats: [fixture.chatId] });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatchObject({
      name: "GITHUB",
      grants: { chats: [fixture.chatId] },
      lastUsedAt: null,
    });
    expect((await addSecret(fixture, "GITHUB", "other")).status).toBe(409);
    for (const name of ["github", "1ABC", "A-B", `A${"B".repeat(64)}`]) {
      expect((await addSecret(fixture, name, "x")).status).toBe(400);
    }
    for (const bad of ["", "line\nbreak", "ünï"]) expect((await addSecret(fixture, "BAD", bad)).status).toBe(400);
    const elsewhere = await chatWithMembers(0);
    expect((await addSecret(fixture, "CROSS", "x", { chats: [elsewhere.chatId] })).status).toBe(400);
    const foreignAgent = await api<{ id: string }>(elsewhere.admin.token, "POST", `/orgs/${elsewhere.orgId}/agents`, {
      name: "Other",
      handle: "other",
    });
    expect((await addSecret(fixture, "CROSS", "x", { chats: "all", agents: [foreignAgent.body.id] })).status).toBe(400);

    const member = fixture.members[0].token;
    expect((await api(member, "GET", `/orgs/${fixture.orgId}/secrets`)).status).toBe(403);
    expect(
      (await api(member, "POST", `/orgs/${fixture.orgId}/secrets`, { name: "M", value: "x", grants: { chats: "all" } }))
        .status,
    ).toBe(403);
    const outsider = await tokenFor(unique("outsider"));
    expect((await api(outsider, "GET", `/orgs/${fixture.orgId}/secrets`)).status).toBe(404);
    expect((await api(outsider, "DELETE", `/orgs/${fixture.orgId}/secrets/GITHUB`)).status).toBe(404);

    const rotated = await api<{ secret: Secret }>(
      fixture.admin.token,
      "PATCH",
      `/orgs/${fixture.orgId}/secrets/GITHUB`,
      {
        value: `${value}-2`,
        grants: { chats: "all", agents: [] },
      },
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret.grants).toEqual({ chats: "all", agents: [] });
    const listed = await api<{ secrets: Secret[] }>(fixture.admin.token, "GET", `/orgs/${fixture.orgId}/secrets`);
    expect(listed.body.secrets.map((s) => s.name)).toEqual(["GITHUB"]);
    const missing = await api(fixture.admin.token, "PATCH", `/orgs/${fixture.orgId}/secrets/NOPE`, { value: "x" });
    expect(missing.status).toBe(404);
    const removed = await api(fixture.admin.token, "DELETE", `/orgs/${fixture.orgId}/secrets/GITHUB`);
    expect(removed.body).toEqual({ removed: { name: "GITHUB" } });
    expect((await api(fixture.admin.token, "DELETE", `/orgs/${fixture.orgId}/secrets/GITHUB`)).status).toBe(404);
    const everything = JSON.stringify([created, rotated, listed, removed]);
    expect(everything).not.toContain(value);
    // Stored sealed: the row holds neither the value nor its encodings.
    const { db, close } = openDatabase(env);
    const rows = await db.select().from(secrets).where(eq(secrets.orgId, fixture.orgId));
    await close();
    expect(leaked(JSON.stringify(rows), value)).toEqual([]);
  });

  it("a secret's value reaches the outbound request and nothing else, in any encoding it is echoed back in", async () => {
    const fixture = await chatWithMembers(1);
    const prefix = `/${unique("echo")}`;
    const value = `tok/${unique("s3cret")}+Z9?&"=`;
    // Everything logged meanwhile (the rooms and agents run in this isolate) is kept, to be searched too.
    const logged: unknown[] = [];
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(String))),
    );
    await addSecret(fixture, "ECHO_TOKEN", value);
    await echoAgent(fixture, prefix);
    prompts.length = 0;
    const member = await connect(fixture.chatId, fixture.members[0].token);
    const get = await runTurn(fixture, `@echo GET ${service}${prefix}/echo`);
    const artifactId = get.of("message").find((m) => m.author.type === "agent")?.artifactIds?.[0];
    expect(artifactId).toBeTruthy();
    const artifact = await api<{ artifact: { body: string } }>(
      fixture.admin.token,
      "GET",
      `/chats/${fixture.chatId}/artifacts/${artifactId}`,
    );
    // Every echoed form, the service's own encodings, shows the name where the value was.
    const echoed = JSON.parse(artifact.body.artifact.body) as Record<string, string | string[]>;
    for (const form of [echoed.raw, echoed.percent, ...echoed.base64, ...echoed.base64url]) {
      expect(form).toContain("[secret:ECHO_TOKEN]");
    }

    // A POST waits for approval: the request shows the secret by name, in place.
    const post = await connect(fixture.chatId, fixture.admin.token);
    post.send({ type: "message", text: `@echo POST ${service}${prefix}/echo {"a":1}`, clientMessageId: "p" });
    await post.until((s) => s.of("approval.requested").length === 1, "the approval request");
    expect(post.of("approval.requested")[0].headers).toEqual({ "X-Token": "Bearer [secret:ECHO_TOKEN]" });
    post.send({ type: "approval", approvalId: post.of("approval.requested")[0].approvalId, decision: "approve" });
    await post.until(ended, "the run");
    const approvals = await api(fixture.admin.token, "GET", `/chats/${fixture.chatId}/approvals`);
    const log = await api(fixture.admin.token, "GET", `/chats/${fixture.chatId}/messages`);
    const listed = await api(fixture.admin.token, "GET", `/orgs/${fixture.orgId}/agents`);
    const requests = await received(prefix);
    expect(requests.map((r) => r.headers["x-token"])).toEqual([`Bearer ${value}`, `Bearer ${value}`]);
    expect(prompts.length).toBeGreaterThan(0);
    const progress = await (
      await getServerByName(env.ChatProgress as DurableObjectNamespace<ChatProgress>, fixture.chatId)
    ).snapshot();
    expect(Object.keys(progress).length).toBeGreaterThan(0);
    for (const spy of spies) spy.mockRestore();
    const seen = JSON.stringify([
      get.events,
      post.events,
      member.events,
      artifact,
      approvals,
      log,
      listed,
      prompts,
      logged,
    ]);
    expect(seen).toContain("[secret:ECHO_TOKEN]");
    expect(leaked(seen, value)).toEqual([]);
    const [stored] = await api<{ secrets: Secret[] }>(
      fixture.admin.token,
      "GET",
      `/orgs/${fixture.orgId}/secrets`,
    ).then((r) => r.body.secrets);
    expect(stored.lastUsedAt).not.toBeNull();
  });

  it("a value echoed across the size cut is redacted before the cut: no part of it is left", async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("cut")}`;
    const value = `cut-${unique("value")}`;
    await addSecret(fixture, "ECHO_TOKEN", value);
    await echoAgent(fixture, prefix, "{{secret:ECHO_TOKEN}}");
    const pad = 64 * 1024 - 6;
    const socket = await runTurn(fixture, `@echo GET ${service}${prefix}/padded-echo-${pad}`);
    const artifactId = socket.of("message").find((m) => m.author.type === "agent")?.artifactIds?.[0];
    const artifact = await api<{ artifact: { body: string; truncated: boolean } }>(
      fixture.admin.token,
      "GET",
      `/chats/${fixture.chatId}/artifacts/${artifactId}`,
    );
    expect(artifact.body.artifact.truncated).toBe(true);
    expect(artifact.body.artifact.body.length).toBe(64 * 1024);
    expect(artifact.body.artifact.body.slice(-20)).toBe(`${"x".repeat(14)}[secre`);
    expect(artifact.body.artifact.body).not.toContain(value.slice(0, 6));
  });

  it("revoking a grant stops the next call, which fails naming the secret and sends nothing; rotation takes effect", async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("grant")}`;
    await addSecret(fixture, "ECHO_TOKEN", "first-value-123");
    await echoAgent(fixture, prefix);
    await runTurn(fixture, `@echo GET ${service}${prefix}/one`);
    await api(fixture.admin.token, "PATCH", `/orgs/${fixture.orgId}/secrets/ECHO_TOKEN`, { value: "second-value-456" });
    await runTurn(fixture, `@echo GET ${service}${prefix}/two`);
    expect((await received(prefix)).map((r) => r.headers["x-token"])).toEqual([
      "Bearer first-value-123",
      "Bearer second-value-456",
    ]);

    await api(fixture.admin.token, "PATCH", `/orgs/${fixture.orgId}/secrets/ECHO_TOKEN`, { grants: { chats: [] } });
    const revoked = await runTurn(fixture, `@echo GET ${service}${prefix}/three`);
    const failed = revoked.of("run.tool").find((t) => t.status === "failed");
    expect(JSON.stringify(failed?.output)).toMatch(/ECHO_TOKEN is not granted/);
    await api(fixture.admin.token, "DELETE", `/orgs/${fixture.orgId}/secrets/ECHO_TOKEN`);
    const deleted = await runTurn(fixture, `@echo GET ${service}${prefix}/four`);
    expect(JSON.stringify(deleted.of("run.tool").find((t) => t.status === "failed")?.output)).toMatch(
      /ECHO_TOKEN does not exist/,
    );
    expect(await received(prefix)).toHaveLength(2);

    // Both refusals are audited as the agent's, once the minute is over, by the secret's name and never its value.
    const room = (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(fixture.chatId);
    await runInDurableObject(room, (_r, state) => state.storage.sql.exec("UPDATE audit_outbox SET due_at = 0"));
    const refused = await eventually(
      async () => {
        await runDurableObjectAlarm(room);
        return (
          await api<{ entries: { action: string; actor: { type: string }; target: string; outcome: string }[] }>(
            fixture.admin.token,
            "GET",
            `/orgs/${fixture.orgId}/audit?action=secret.refused`,
          )
        ).body.entries;
      },
      (entries) => entries.length === 2,
      "the refusals in the audit log",
    );
    expect(refused.map((e) => [e.actor.type, e.outcome])).toEqual([
      ["agent", "refused"],
      ["agent", "refused"],
    ]);
    expect(refused.map((e) => e.target).join(" ")).toMatch(/ECHO_TOKEN does not exist.*ECHO_TOKEN is not granted/);
    expect(JSON.stringify(refused)).not.toContain("second-value-456");
  });

  it("a grant names chats and agents: another agent in the same chat may not use it", async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("agents")}`;
    const other = await api<{ id: string }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/agents`, {
      name: "Other",
      handle: "other",
    });
    await addSecret(fixture, "ECHO_TOKEN", "narrow-value-789", { chats: [fixture.chatId], agents: [other.body.id] });
    await echoAgent(fixture, prefix);
    const socket = await runTurn(fixture, `@echo GET ${service}${prefix}/x`);
    expect(JSON.stringify(socket.of("run.tool").find((t) => t.status === "failed")?.output)).toMatch(/ECHO_TOKEN/);
    expect(await received(prefix)).toEqual([]);
  });

  it("plain header values stored before secrets are moved into secrets on first read, once; none is left", async () => {
    const fixture = await chatWithMembers(0);
    const prefix = `/${unique("plain")}`;
    const { db, close } = openDatabase(env);
    const tools = (handle: string) => ({
      http: {
        allow: [{ baseUrl: `${service}${prefix}`, methods: ["GET" as const] }],
        headers: { "X-Token": `plain-${handle}-value`, Accept: "application/json" },
      },
    });
    // Written straight to the table, as rows written before secrets existed are.
    const insertOld = async (handle: string) => {
      const [row] = await db
        .insert(agents)
        .values({ orgId: fixture.orgId, name: handle, handle, tools: tools(handle), createdBy: fixture.admin.userId })
        .returning({ id: agents.id });
      return row;
    };
    const viaApi = await insertOld("old-api");
    const listed = await api<{ agents: { handle: string; tools: { http: { headers: object } } }[] }>(
      fixture.admin.token,
      "GET",
      `/orgs/${fixture.orgId}/agents`,
    );
    expect(listed.body.agents.find((a) => a.handle === "old-api")?.tools.http.headers).toEqual({
      "X-Token": "[secret:AGENT_OLD_API_X_TOKEN]",
      Accept: "[secret:AGENT_OLD_API_ACCEPT]",
    });
    expect(JSON.stringify(listed.body)).not.toContain("plain-old");
    // The agent's own read moves them as well, and the request still carries the value.
    const viaRun = await insertOld("old-run");
    await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/agents`, { agentId: viaRun.id });
    await runTurn(fixture, `@old-run GET ${service}${prefix}/x`);
    expect((await received(prefix)).map((r) => r.headers["x-token"])).toEqual(["plain-old-run-value"]);
    const rows = await db
      .select({ id: agents.id, tools: agents.tools })
      .from(agents)
      .where(eq(agents.orgId, fixture.orgId));
    const moved = await db
      .select({ name: secrets.name, grants: secrets.grants })
      .from(secrets)
      .where(and(eq(secrets.orgId, fixture.orgId)));
    await close();
    for (const row of rows) {
      for (const value of Object.values(row.tools.http?.headers ?? {}))
        expect(value).toMatch(/^\{\{secret:[A-Z0-9_]+\}\}$/);
    }
    expect(JSON.stringify(rows)).not.toContain("plain-old");
    expect(moved.map((s) => s.name).sort()).toEqual([
      "AGENT_OLD_API_ACCEPT",
      "AGENT_OLD_API_X_TOKEN",
      "AGENT_OLD_RUN_ACCEPT",
      "AGENT_OLD_RUN_X_TOKEN",
    ]);
    expect(moved.find((s) => s.name === "AGENT_OLD_API_X_TOKEN")?.grants).toEqual({
      chats: "all",
      agents: [viaApi.id],
    });
  });
});
