/**
 * Logs never carry a session token, a socket ticket or what a person wrote (api/log.ts). Every console line written
 * during a whole flow is captured: in the workers pool, Durable Objects run in the test's isolate too, so the spies
 * see the rooms' lines as well as the Worker's.
 */

import { env } from "cloudflare:workers";
import { APICallError } from "@ai-sdk/provider";
import { MockLanguageModelV4 } from "ai/test";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { registerModel } from "../../agents/models";
import { openDatabase } from "../../api/db/client";
import { orgs } from "../../api/db/schema";
import { errorFields } from "../../api/log";
import { api, call, chatWithMembers, connect, readySocket, type TestSocket, unique } from "./helpers";

/** A model vendor that refuses the request and echoes the prompt in its error, as some do. */
registerModel("test:logs-echoing-refusal", () => {
  return new MockLanguageModelV4({
    doStream: async (options) => {
      throw new APICallError({
        message: `invalid request: ${JSON.stringify(options.prompt)}`,
        url: "https://models.invalid/v1/chat",
        requestBodyValues: options,
        statusCode: 400,
        isRetryable: false,
      });
    },
  });
});

const methods = ["log", "info", "warn", "error", "debug"] as const;
let spies: MockInstance[] = [];

function captured(): string[] {
  return spies.flatMap((spy) =>
    spy.mock.calls.map((args) => args.map((a) => (typeof a === "string" ? a : safeJson(a))).join(" ")),
  );
}

function safeJson(value: unknown): string {
  try {
    return value instanceof Error ? `${value.message} ${value.stack}` : JSON.stringify(value);
  } catch {
    return String(value);
  }
}

async function open(path: string): Promise<TestSocket> {
  return readySocket(await call(path, { headers: { Upgrade: "websocket" } }));
}

describe("logs", () => {
  beforeEach(() => {
    spies = methods.map((method) => vi.spyOn(console, method));
  });
  afterEach(() => {
    for (const spy of spies) spy.mockRestore();
  });

  it("hold no token, ticket or message text through sign-in, messages and sockets", async () => {
    const { chatId, admin, members } = await chatWithMembers(1);
    const marker = unique("marker-text");
    const secretLike = `sk_live_${crypto.randomUUID().replace(/-/g, "")}`;
    const member = members[0];

    const posted = await api(member.token, "POST", `/chats/${chatId}/messages`, {
      text: `${marker} with ${secretLike}`,
      clientMessageId: unique("c"),
    });
    expect(posted.status).toBe(201);

    const ticket = (await api<{ ticket: string }>(member.token, "POST", `/chats/${chatId}/socket-ticket`)).body.ticket;
    const withTicket = await open(`/api/chats/${chatId}/ws?ticket=${encodeURIComponent(ticket)}&after=0`);
    expect(withTicket.of("message").some((m) => m.text.includes(marker))).toBe(true);
    withTicket.send({ type: "message", text: `${marker} over the socket ${secretLike}`, clientMessageId: unique("c") });
    await withTicket.until((s) => s.of("message").length === 2, "the socket's message");
    const withToken = await open(`/api/chats/${chatId}/ws?token=${encodeURIComponent(admin.token)}&after=0`);

    // Refusals log too: a spent ticket, a bad token.
    const spent = await call(`/api/chats/${chatId}/ws?ticket=${encodeURIComponent(ticket)}`, {
      headers: { Upgrade: "websocket" },
    });
    expect(spent.status).toBe(401);
    const badToken = `${member.token.slice(0, -4)}AAAA`;
    expect((await api(badToken, "GET", `/chats/${chatId}/messages`)).status).toBe(401);
    withTicket.close();
    withToken.close();
    await new Promise((resolve) => setTimeout(resolve, 100));

    const lines = captured();
    const opened = lines.filter((line) => line.includes('"socket_opened"')).map((line) => JSON.parse(line));
    expect(opened).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ event: "socket_opened", chatId, userId: member.userId, auth: "ticket" }),
        expect.objectContaining({ event: "socket_opened", chatId, userId: admin.userId, auth: "token" }),
      ]),
    );
    for (const line of opened) expect(typeof line.requestId).toBe("string");
    expect(lines.some((line) => line.includes('"socket_ticket_refused"'))).toBe(true);
    expect(lines.some((line) => line.includes('"sign_in_failed"'))).toBe(true);

    for (const line of lines) {
      expect(line).not.toContain(member.token);
      expect(line).not.toContain(admin.token);
      expect(line).not.toContain(badToken);
      expect(line).not.toContain(ticket);
      expect(line).not.toContain(marker);
      expect(line).not.toContain(secretLike);
    }
  });

  it("name the run of a failed agent turn, and never carry what the vendor echoed of the prompt", async () => {
    const { orgId, chatId, admin } = await chatWithMembers(0);
    const created = await api<{ id: string }>(admin.token, "POST", `/orgs/${orgId}/agents`, {
      name: "Refused",
      handle: "refused",
      model: "test:logs-echoing-refusal",
    });
    expect(created.status).toBe(201);
    await api(admin.token, "POST", `/chats/${chatId}/agents`, { agentId: created.body.id });
    const marker = unique("prompt-text");
    const socket = await connect(chatId, admin.token);
    socket.send({ type: "message", text: `@refused ${marker}`, clientMessageId: unique("c") });
    await socket.until((s) => s.of("run.failed").length > 0, "the failed run");
    const runId = socket.of("run.failed")[0].runId;
    socket.close();

    const lines = captured();
    const failed = lines.filter((line) => line.includes('"agent_run_failed"')).map((line) => JSON.parse(line));
    expect(failed).toEqual([
      expect.objectContaining({ level: "error", orgId, chatId, runId, errorName: "AI_APICallError", errorStatus: 400 }),
    ]);
    for (const line of lines) {
      expect(line).not.toContain(marker);
      expect(line).not.toContain(admin.token);
    }
  });

  it("say of a failed query its class and Postgres code, never the values it carried", async () => {
    const marker = unique("chat-title");
    const { db, close } = openDatabase(env);
    let caught: unknown = null;
    try {
      // An org id that is not a uuid: Postgres refuses it, and drizzle's error names the statement and its values.
      await db.insert(orgs).values({ id: "not-a-uuid", name: marker });
    } catch (error) {
      caught = error;
    } finally {
      await close();
    }
    expect(String((caught as Error).message)).toContain(marker);
    const fields = errorFields(caught);
    expect(JSON.stringify(fields)).not.toContain(marker);
    expect(fields).toEqual({ errorName: (caught as Error).name, errorCode: "22P02" });
  });
});
