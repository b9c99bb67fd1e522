/** Small helpers for workerd tests: development tokens, REST calls and sockets against the real Worker. */
import { exports } from "cloudflare:workers";
import { type ParlorClient, parlorClient } from "../../api/client";
import type { RoomEvent } from "../../protocol/events";
import { checkAnswer } from "./contract";

type Event = RoomEvent;

const BASE = "http://localhost";

/** The typed client (hono/client over the app's type), signed in as `token`, answers checked like call()'s. */
export function client(token: string | null = null): ParlorClient {
  return parlorClient(BASE, {
    fetch: (input: RequestInfo | URL, init?: RequestInit) =>
      call(new URL(String(input)).pathname + new URL(String(input)).search, init),
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
}

/** Every answer is checked against its route's declared schema (see contract.ts) before the test sees it. */
export async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const response = await exports.default.fetch(new Request(`${BASE}${path}`, init));
  const method = init.method ?? "GET";
  const pathname = new URL(`${BASE}${path}`).pathname;
  if (response.status === 101) return response;
  const text = await response.clone().text();
  let body: unknown = text;
  if ((response.headers.get("Content-Type") ?? "").includes("application/json")) body = JSON.parse(text);
  checkAnswer(method, pathname, response.status, body);
  return response;
}

export async function tokenFor(userId: string, name?: string): Promise<string> {
  const response = await client().api.dev.token.$post({ json: name ? { userId, name } : { userId } });
  if (response.status !== 200) throw new Error(`dev token: ${response.status} ${await response.text()}`);
  return (await response.json()).token;
}

export type ApiResult<T = Record<string, unknown>> = { status: number; body: T };

export async function api<T = Record<string, unknown>>(
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await call(`/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

let counter = 0;
/** A unique id per test, so tests sharing one run's storage never meet. */
export function unique(prefix: string): string {
  counter++;
  return `${prefix}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 6)}`;
}

export type ChatFixture = {
  orgId: string;
  chatId: string;
  admin: { userId: string; token: string };
  members: { userId: string; token: string }[];
};

/** An org whose admin created a chat and added `memberCount` more people to both. */
export async function chatWithMembers(memberCount: number): Promise<ChatFixture> {
  const adminId = unique("admin");
  const adminToken = await tokenFor(adminId, `Admin ${adminId}`);
  const asAdmin = client(adminToken).api;
  const org = await expectStatus(await asAdmin.orgs.$post({ json: { name: "Test org" } }), 201);
  const orgId = (await org.json()).id;
  const chat = await expectStatus(
    await asAdmin.orgs[":orgId"].chats.$post({ param: { orgId }, json: { title: "general" } }),
    201,
  );
  const chatId = (await chat.json()).id;
  const members = [];
  for (let i = 0; i < memberCount; i++) {
    const userId = unique(`member${i}`);
    const token = await tokenFor(userId, `Member ${i}`);
    await expectStatus(
      await asAdmin.orgs[":orgId"].members.$post({ param: { orgId }, json: { userId, role: "member" } }),
      201,
    );
    await expectStatus(await asAdmin.chats[":chatId"].members.$post({ param: { chatId }, json: { userId } }), 201);
    members.push({ userId, token });
  }
  return { orgId, chatId, admin: { userId: adminId, token: adminToken }, members };
}

/** Fails the test, with the answer's body, unless the response has the status expected. */
export async function expectStatus<R extends { status: number; clone(): { text(): Promise<string> } }>(
  response: R,
  status: number,
): Promise<R> {
  if (response.status !== status) {
    throw new Error(`expected ${status}, got ${response.status}: ${await response.clone().text()}`);
  }
  return response;
}

/** A test's view of one socket: every event it received, and ways to wait for more. */
export class TestSocket {
  readonly events: Event[] = [];
  closed: { code: number; reason: string } | null = null;
  private waiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      this.events.push(JSON.parse(String(event.data)) as Event);
      this.wake();
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.wake();
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  of<T extends Event["type"]>(type: T): Extract<Event, { type: T }>[] {
    return this.events.filter((e): e is Extract<Event, { type: T }> => e.type === type);
  }

  seqs(): number[] {
    return this.of("message").map((m) => m.seq);
  }

  async until(done: (socket: TestSocket) => boolean, what = "condition", timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.events.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ws.close(1000, "test done");
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
  }
}

/** Where a socket's catch-up starts: after a seq (a number), or a query of its own (`tail=N`, or anything). */
type CatchUpQuery = number | string;

export async function openSocket(chatId: string, token: string, catchUp: CatchUpQuery = 0): Promise<Response> {
  const query = typeof catchUp === "number" ? `after=${catchUp}` : catchUp;
  return call(`/api/chats/${chatId}/ws?token=${encodeURIComponent(token)}&${query}`, {
    headers: { Upgrade: "websocket" },
  });
}

/** Opens a socket and waits for its `ready` event: catch-up is complete. */
export async function connect(chatId: string, token: string, catchUp: CatchUpQuery = 0): Promise<TestSocket> {
  return readySocket(await openSocket(chatId, token, catchUp));
}

/** Accepts an upgrade's socket and waits for its `ready` event; a refused upgrade throws with its answer. */
export async function readySocket(response: Response): Promise<TestSocket> {
  const ws = response.webSocket;
  if (response.status !== 101 || !ws) throw new Error(`socket refused: ${response.status} ${await response.text()}`);
  ws.accept();
  const socket = new TestSocket(ws);
  await socket.until((s) => s.of("ready").length > 0, "ready");
  return socket;
}

/** Reads until `done` holds (or `timeoutMs` pass): for state that settles in the background. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
