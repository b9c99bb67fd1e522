/**
 * The contract as an outside client meets it, against `npm start`: the OpenAPI document validates as OpenAPI 3.1,
 * and a raw socket's text frame carrying invalid UTF-8 (which workerd would decode to U+FFFD) is refused.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type ParlorClient, parlorClient } from "../../api/client";
import { type RoomEvent, roomEventSchema } from "../../protocol/events";
import { type RunningParlor, startParlor } from "../../scripts/parlor-process";

const databaseUrl = process.env.PARLOR_TEST_DATABASE_URL as string;
const dataDir = mkdtempSync(join(tmpdir(), "parlor-contract-"));
let parlor: RunningParlor;

beforeAll(async () => {
  parlor = await startParlor(dataDir, databaseUrl);
});

afterAll(async () => {
  await parlor?.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
});

function signedIn(token: string): ParlorClient {
  return parlorClient(parlor.baseUrl, { headers: { Authorization: `Bearer ${token}` } });
}

describe("the contract, from outside", () => {
  it("GET /api/openapi.json validates as OpenAPI 3.1", async () => {
    const response = await parlorClient(parlor.baseUrl).api["openapi.json"].$get();
    const document = await response.json();
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("a text frame with invalid UTF-8 gets an error event, the socket stays open, and nothing is stored", async () => {
    const tokenResponse = await parlorClient(parlor.baseUrl).api.dev.token.$post({ json: { userId: "raw-bytes" } });
    const { token } = await tokenResponse.json();
    const api = signedIn(token).api;
    const org = await (await api.orgs.$post({ json: { name: "Bytes" } })).json();
    const chatAnswer = await api.orgs[":orgId"].chats.$post({ param: { orgId: org.id }, json: { title: "bytes" } });
    const chat = await chatAnswer.json();

    const events: RoomEvent[] = [];
    const ws = new WebSocket(
      `${parlor.baseUrl.replace("http", "ws")}/api/chats/${chat.id}/ws?token=${encodeURIComponent(token)}`,
    );
    const seen = (done: () => boolean) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(events)}`)), 10_000);
        const check = () => {
          if (done()) {
            clearTimeout(timer);
            ws.off("message", check);
            resolve();
          }
        };
        ws.on("message", check);
      });
    ws.on("message", (data) => events.push(roomEventSchema.parse(JSON.parse(String(data)))));
    await seen(() => events.some((e) => e.type === "ready"));

    const prefix = Buffer.from('{"type":"message","clientMessageId":"bad-bytes","text":"caf');
    const suffix = Buffer.from('"}');
    // A text frame (not binary) whose payload is not UTF-8: 0xE9 alone is Latin-1's é.
    ws.send(Buffer.concat([prefix, Buffer.from([0xe9]), suffix]), { binary: false });
    await seen(() => events.some((e) => e.type === "error"));
    const error = events.find((e) => e.type === "error");
    expect(error).toMatchObject({ type: "error", code: "bad_request" });

    ws.send(JSON.stringify({ type: "message", text: "café", clientMessageId: "good-bytes" }));
    await seen(() => events.some((e) => e.type === "message"));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();

    const history = await api.chats[":chatId"].messages.$get({ param: { chatId: chat.id }, query: {} });
    expect((await history.json()).messages.map((m) => [m.seq, m.text])).toEqual([[1, "café"]]);
  });
});
