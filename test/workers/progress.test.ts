import { env } from "cloudflare:workers";
import { getServerByName } from "partyserver";
import { describe, expect, it } from "vitest";
import YProvider from "y-partyserver/provider";
import * as Y from "yjs";
import type { RunProgress } from "../../protocol/agents";
import type { ChatProgress } from "../../rooms/chat-progress";
import { api, call, chatWithMembers, client, connect, tokenFor, unique } from "./helpers";

const service = (env as unknown as { TEST_SERVICE_URL: string }).TEST_SERVICE_URL;

/** y-protocols' message tags: a sync message, and its step 1 (a state vector) and step 2 (the missing updates). */
const SYNC = 0;
const STEP1 = 0;
const STEP2 = 1;

/**
 * The WebSocket YProvider constructs, opened through the Worker's own route like any client's socket (the test
 * cannot dial the Worker by URL). It also counts the sync answers it receives, for `roundTrip`.
 */
class WorkerSocket extends EventTarget {
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState = 0;
  binaryType = "arraybuffer";
  step2Received = 0;
  private ws: WebSocket | null = null;

  constructor(readonly url: string) {
    super();
    const target = new URL(url);
    void call(target.pathname + target.search, { headers: { Upgrade: "websocket" } }).then((response) => {
      const ws = response.webSocket;
      if (response.status !== 101 || !ws) {
        this.readyState = this.CLOSED;
        this.dispatchEvent(new CloseEvent("close", { code: 1006, reason: `refused: ${response.status}` }));
        return;
      }
      ws.accept();
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      this.readyState = this.OPEN;
      ws.addEventListener("message", (event) => {
        const bytes = typeof event.data === "string" ? null : new Uint8Array(event.data as ArrayBuffer);
        if (bytes && bytes[0] === SYNC && bytes[1] === STEP2) this.step2Received++;
        this.dispatchEvent(new MessageEvent("message", { data: event.data }));
      });
      ws.addEventListener("close", (event) => {
        this.readyState = this.CLOSED;
        this.dispatchEvent(new CloseEvent("close", { code: event.code, reason: event.reason }));
      });
      this.dispatchEvent(new Event("open"));
    });
  }

  send(data: Uint8Array | string): void {
    this.ws?.send(data);
  }

  close(code?: number, reason?: string): void {
    this.readyState = this.CLOSING;
    this.ws?.close(code, reason);
  }
}

type Watcher = { doc: Y.Doc; provider: YProvider; runs: () => Record<string, RunProgress> };

/** The chat's progress document as the web client syncs it (web/src/progress.ts), signed in as `token`. */
async function watchProgress(chatId: string, token: string, doc = new Y.Doc()): Promise<Watcher> {
  const provider = new YProvider("localhost", chatId, doc, {
    prefix: `/api/chats/${chatId}/progress`,
    params: { token },
    protocol: "ws",
    disableBc: true,
    WebSocketPolyfill: WorkerSocket as unknown as typeof WebSocket,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the progress document did not sync")), 10_000);
    provider.once("synced", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const runs = () => doc.getMap<RunProgress>("runs").toJSON() as Record<string, RunProgress>;
  return { doc, provider, runs };
}

/**
 * Asks the server for its state on this socket and waits for the answer: the server reads a socket's messages in
 * order, so everything the client sent before has been handled, and everything the server sent before has arrived.
 */
async function roundTrip(watcher: Watcher): Promise<void> {
  const socket = watcher.provider.ws as unknown as WorkerSocket;
  const before = socket.step2Received;
  const empty = Y.encodeStateVector(new Y.Doc());
  socket.send(new Uint8Array([SYNC, STEP1, empty.length, ...empty]));
  const deadline = Date.now() + 10_000;
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (socket.step2Received > before) resolve();
      else if (Date.now() > deadline) reject(new Error("no answer to a sync step 1"));
      else setTimeout(check, 5);
    };
    check();
  });
}

/** Resolves once the client's copy of the document satisfies `done` (checked on every update it receives). */
function until(watcher: Watcher, done: (runs: Record<string, RunProgress>) => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!done(watcher.runs())) return;
      watcher.doc.off("update", check);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      watcher.doc.off("update", check);
      reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(watcher.runs())}`));
    }, 10_000);
    watcher.doc.on("update", check);
    check();
  });
}

async function serverSnapshot(chatId: string): Promise<Record<string, RunProgress>> {
  const stub = await getServerByName(env.ChatProgress as DurableObjectNamespace<ChatProgress>, chatId);
  return stub.snapshot();
}

describe("live progress (Yjs)", () => {
  it("a member's client follows a run's tool waiting for approval, then done", async () => {
    const fixture = await chatWithMembers(1);
    const prefix = `/${unique("progress")}`;
    const agent = await api<{ id: string }>(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/agents`, {
      name: "Ops",
      handle: "ops",
      tools: { http: { allow: [{ baseUrl: `${service}${prefix}`, methods: ["POST"] }] } },
    });
    await api(fixture.admin.token, "POST", `/chats/${fixture.chatId}/agents`, { agentId: agent.body.id });
    const watcher = await watchProgress(fixture.chatId, fixture.members[0].token);
    try {
      expect(watcher.runs()).toEqual({});
      const socket = await connect(fixture.chatId, fixture.admin.token);
      socket.send({ type: "message", text: `@ops POST ${service}${prefix}/x {}`, clientMessageId: "p" });
      await socket.until((s) => s.of("approval.requested").length === 1, "the approval request");
      const [request] = socket.of("approval.requested");
      await until(watcher, (runs) => runs[request.runId]?.status === "waiting_approval", "waiting_approval");
      expect(watcher.runs()[request.runId]).toMatchObject({
        agentId: agent.body.id,
        tools: [{ name: "http_request", status: "waiting_approval" }],
      });
      socket.send({ type: "approval", approvalId: request.approvalId, decision: "approve" });
      await until(watcher, (runs) => runs[request.runId]?.status === "done", "done");
      expect(watcher.runs()[request.runId].tools).toEqual([
        expect.objectContaining({ name: "http_request", status: "done" }),
      ]);
      expect(watcher.runs()).toEqual(await serverSnapshot(fixture.chatId));
    } finally {
      watcher.provider.destroy();
    }
  });

  it("a client cannot write the document: neither the server nor other clients see its changes", async () => {
    const fixture = await chatWithMembers(1);
    const progress = await getServerByName(env.ChatProgress as DurableObjectNamespace<ChatProgress>, fixture.chatId);
    const runId = crypto.randomUUID();
    // Only the room writes it (here as the room does, through the document's RPC).
    await progress.applyRun(runId, { agentId: "agent-1", status: "running" });
    const watcher = await watchProgress(fixture.chatId, fixture.admin.token);
    // A client whose document already holds forged state when it connects: the state travels in its sync answer.
    const forgedDoc = new Y.Doc();
    forgedDoc.getMap("runs").set("forged-at-connect", { agentId: "x", status: "done", tools: [] });
    const forger = await watchProgress(fixture.chatId, fixture.members[0].token, forgedDoc);
    try {
      expect(forger.runs()[runId]).toMatchObject({ status: "running" });
      // And a change made once connected, sent as an update.
      forgedDoc.getMap("runs").set(runId, { ...forger.runs()[runId], status: "failed" });
      forgedDoc.getMap("runs").set("forged-update", { agentId: "x", status: "done", tools: [] });
      await roundTrip(forger);
      await roundTrip(watcher);

      const server = await serverSnapshot(fixture.chatId);
      expect(Object.keys(server)).toEqual([runId]);
      expect(server[runId].status).toBe("running");
      expect(watcher.runs()).toEqual(server);
      const late = await watchProgress(fixture.chatId, fixture.admin.token);
      try {
        expect(late.runs()).toEqual(server);
      } finally {
        late.provider.destroy();
      }

      // The document still moves on for everyone when the room writes it.
      await progress.applyRun(runId, { status: "done" });
      await until(watcher, (runs) => runs[runId]?.status === "done", "the room's own change");
    } finally {
      watcher.provider.destroy();
      forger.provider.destroy();
    }
  });

  it("a client cannot announce itself to the others: awareness from clients is not relayed", async () => {
    const fixture = await chatWithMembers(1);
    const watcher = await watchProgress(fixture.chatId, fixture.admin.token);
    const announcer = await watchProgress(fixture.chatId, fixture.members[0].token);
    try {
      announcer.provider.awareness.setLocalState({ forged: "x".repeat(1000) });
      await roundTrip(announcer);
      await roundTrip(watcher);
      expect(watcher.provider.awareness.getStates().has(announcer.doc.clientID)).toBe(false);
    } finally {
      watcher.provider.destroy();
      announcer.provider.destroy();
    }
  });

  it("a member removed from the chat has their progress socket closed, as their chat socket is", async () => {
    const fixture = await chatWithMembers(1);
    const watcher = await watchProgress(fixture.chatId, fixture.members[0].token);
    const socket = watcher.provider.ws as unknown as WorkerSocket;
    const closed = new Promise<number>((resolve) =>
      socket.addEventListener("close", (event) => resolve((event as CloseEvent).code)),
    );
    try {
      const removed = await client(fixture.admin.token).api.chats[":chatId"].members.$delete({
        param: { chatId: fixture.chatId },
        json: { userId: fixture.members[0].userId },
      });
      expect(removed.status).toBe(200);
      expect(await closed).toBe(4003);
    } finally {
      watcher.provider.destroy();
    }
  });

  it("deleting the chat closes every progress socket (4004), as it closes the chat's sockets", async () => {
    const fixture = await chatWithMembers(1);
    const watcher = await watchProgress(fixture.chatId, fixture.members[0].token);
    const socket = watcher.provider.ws as unknown as WorkerSocket;
    const closed = new Promise<number>((resolve) =>
      socket.addEventListener("close", (event) => resolve((event as CloseEvent).code)),
    );
    try {
      expect((await api(fixture.admin.token, "DELETE", `/chats/${fixture.chatId}`)).status).toBe(200);
      expect(await closed).toBe(4004);
    } finally {
      watcher.provider.destroy();
    }
  });

  it("a progress socket that did not come through the Orchestrator is refused", async () => {
    const fixture = await chatWithMembers(0);
    const stub = await getServerByName(env.ChatProgress as DurableObjectNamespace<ChatProgress>, fixture.chatId);
    const response = await stub.fetch(
      new Request("https://progress.internal/ws", { headers: { Upgrade: "websocket" } }),
    );
    const ws = response.webSocket;
    if (!ws) throw new Error(`expected a socket to be opened and closed, got ${response.status}`);
    const closed = new Promise<number>((resolve) => ws.addEventListener("close", (event) => resolve(event.code)));
    ws.accept();
    expect(await closed).toBe(1008);
  });

  it("only the chat's members may open its progress socket", async () => {
    const fixture = await chatWithMembers(0);
    // As a browser opens it: the token in the query string.
    const open = (token: string) =>
      client().api.chats[":chatId"].progress.$get(
        { param: { chatId: fixture.chatId }, query: { token } },
        { headers: { Upgrade: "websocket" } },
      );
    const member = await open(fixture.admin.token);
    expect(member.status).toBe(101);
    const ws = (member as unknown as Response).webSocket;
    expect(ws).not.toBeNull();
    ws?.accept();
    ws?.close(1000, "test done");
    const colleague = unique("colleague");
    await api(fixture.admin.token, "POST", `/orgs/${fixture.orgId}/members`, { userId: colleague, role: "member" });
    expect((await open(await tokenFor(colleague))).status).toBe(403);
    expect((await open(await tokenFor(unique("outsider")))).status).toBe(404);
    const otherOrg = await chatWithMembers(0);
    expect((await open(otherOrg.admin.token)).status).toBe(404);
  });
});
