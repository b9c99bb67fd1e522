import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Message, ServerEvent } from "../../protocol/chat";
import { apiOf, ok, type RunningParlor, startParlor } from "../../scripts/parlor-process";
import { startExternalService } from "../external-service";

const databaseUrl = process.env.PARLOR_TEST_DATABASE_URL as string;
const dataDir = mkdtempSync(join(tmpdir(), "parlor-e2e-"));
let parlor: RunningParlor | null = null;

afterAll(async () => {
  await parlor?.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
});

function socketMessages(url: string, count: number, send: (ws: WebSocket) => void): Promise<Message[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const messages: Message[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${messages.length} of ${count} messages`)), 30_000);
    ws.on("message", (data) => {
      const event = JSON.parse(String(data)) as ServerEvent;
      if (event.type === "ready") send(ws);
      if (event.type === "message") messages.push(event);
      if (messages.length === count) {
        clearTimeout(timer);
        ws.close();
        resolve(messages);
      }
    });
    ws.on("error", reject);
  });
}

describe("the dev server (npm start)", () => {
  it("keeps every acknowledged message across a graceful restart and a SIGKILL, and seq continues", async () => {
    parlor = await startParlor(dataDir, databaseUrl);
    const { token } = await ok(await apiOf(parlor.baseUrl).dev.token.$post({ json: { userId: "restarter" } }));
    const api = () => apiOf((parlor as RunningParlor).baseUrl, token);
    const org = await ok(await api().orgs.$post({ json: { name: "Restart org" } }));
    const chat = await ok(
      await api().orgs[":orgId"].chats.$post({ param: { orgId: org.id }, json: { title: "durable" } }),
    );
    const messages = () => api().chats[":chatId"].messages;
    const wsUrl = (base: string, after: number) =>
      `${base.replace("http", "ws")}/api/chats/${chat.id}/ws?token=${encodeURIComponent(token)}&after=${after}`;

    // 10 over REST, 10 over the socket; every one acknowledged before the kill.
    for (let n = 1; n <= 10; n++) {
      await ok(
        await messages().$post({ param: { chatId: chat.id }, json: { text: `rest ${n}`, clientMessageId: `r${n}` } }),
      );
    }
    const viaSocket = await socketMessages(wsUrl(parlor.baseUrl, 10), 10, (ws) => {
      for (let n = 1; n <= 10; n++)
        ws.send(JSON.stringify({ type: "message", text: `ws ${n}`, clientMessageId: `w${n}` }));
    });
    expect(viaSocket.map((m) => m.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 11));

    await parlor.kill("SIGKILL");
    parlor = await startParlor(dataDir, databaseUrl, parlor.port);
    const afterKill = await ok(await messages().$get({ param: { chatId: chat.id }, query: {} }));
    expect(afterKill.messages.map((m) => m.text)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `rest ${i + 1}`),
      ...Array.from({ length: 10 }, (_, i) => `ws ${i + 1}`),
    ]);
    expect(afterKill.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    // A retry of an acknowledged send after the crash is still recognised.
    const retried = await ok(
      await messages().$post({ param: { chatId: chat.id }, json: { text: "ws 10", clientMessageId: "w10" } }),
    );
    expect(retried.message.seq).toBe(20);

    await parlor.kill("SIGTERM");
    parlor = await startParlor(dataDir, databaseUrl, parlor.port);
    const next = await socketMessages(wsUrl(parlor.baseUrl, 20), 1, (ws) =>
      ws.send(JSON.stringify({ type: "message", text: "after restarts", clientMessageId: "final" })),
    );
    expect(next[0]).toMatchObject({ seq: 21, text: "after restarts" });
  });

  it("a pending approval survives a SIGKILL of the dev server; after it the request is sent exactly once", async () => {
    const service = await startExternalService();
    // The service listens on 127.0.0.1: development reaches a private address only at origins it is told about.
    process.env.PARLOR_DEV_ALLOW_ORIGINS = service.url;
    try {
      await parlor?.kill("SIGTERM");
      parlor = await startParlor(dataDir, databaseUrl, parlor?.port);
      const { token } = await ok(await apiOf(parlor.baseUrl).dev.token.$post({ json: { userId: "approver" } }));
      const api = () => apiOf((parlor as RunningParlor).baseUrl, token);
      const org = await ok(await api().orgs.$post({ json: { name: "Approvals" } }));
      const chat = await ok(
        await api().orgs[":orgId"].chats.$post({ param: { orgId: org.id }, json: { title: "ops" } }),
      );
      const agent = await ok(
        await api().orgs[":orgId"].agents.$post({
          param: { orgId: org.id },
          json: {
            name: "Ops",
            handle: "ops",
            tools: { http: { allow: [{ baseUrl: `${service.url}/tickets`, methods: ["POST"] }] } },
          },
        }),
      );
      const param = { chatId: chat.id };
      await ok(await api().chats[":chatId"].agents.$post({ param, json: { agentId: agent.id } }));
      await ok(
        await api().chats[":chatId"].messages.$post({
          param,
          json: { text: `@ops POST ${service.url}/tickets {"n":1}`, clientMessageId: "ask" },
        }),
      );
      const pendingOn = async (base: string) =>
        (await ok(await apiOf(base, token).chats[":chatId"].approvals.$get({ param, query: { status: "pending" } })))
          .approvals;
      let pending: { approvalId: string }[] = [];
      for (let i = 0; i < 100 && pending.length === 0; i++) {
        pending = await pendingOn(parlor.baseUrl);
        if (pending.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(pending).toHaveLength(1);

      await parlor.kill("SIGKILL");
      parlor = await startParlor(dataDir, databaseUrl, parlor.port);
      expect(await pendingOn(parlor.baseUrl)).toEqual(pending);
      expect(await service.received()).toEqual([]);

      await ok(
        await api().chats[":chatId"].approvals[":approvalId"].$post({
          param: { chatId: chat.id, approvalId: pending[0].approvalId },
          json: { decision: "approve" },
        }),
      );
      let reply: Message | undefined;
      for (let i = 0; i < 100 && !reply; i++) {
        const { messages } = await ok(await api().chats[":chatId"].messages.$get({ param, query: {} }));
        reply = messages.find((m) => m.author.type === "agent");
        if (!reply) await new Promise((r) => setTimeout(r, 100));
      }
      expect(reply?.text).toBe("The request returned 201.");
      expect((await service.received()).map((r) => `${r.method} ${r.path} ${r.body}`)).toEqual([
        'POST /tickets {"n":1}',
      ]);
    } finally {
      delete process.env.PARLOR_DEV_ALLOW_ORIGINS;
      await service.close();
    }
  });
});
