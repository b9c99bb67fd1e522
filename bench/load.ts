/** One load generator for both targets: sockets that speak the room protocol, and the measurements over them. */
import { performance } from "node:perf_hooks";
import WebSocket from "ws";

export type BenchRoom = {
  /** A socket URL for the next member (round robin over the room's members). */
  socketUrl: (after: number) => string;
  lastSeq: () => Promise<number>;
  /** Posts one message over HTTP as the next member; resolves when the server answered 201. */
  post: (text: string, clientMessageId: string) => Promise<void>;
  /** Seqs of the page of messages after `after`, over HTTP; empty past the end. */
  page: (after: number) => Promise<number[]>;
  /** What the room's side has counted so far (billed operations), where the target can tell. */
  operations?: () => Promise<Operations>;
  /** Backs the room up once (where the target has backups). */
  backup?: () => Promise<void>;
};

/** Billed operations, as counters that only grow: a measure reads them before and after and keeps the difference. */
export type Operations = Record<string, number>;

/**
 * `wokeAt` is when the room last woke: its counters start from 0 then, so if it slept in between, what it did is
 * what it counted since waking. (`postgresQueries` counts for the whole isolate and never restarts.)
 */
export function operationsBetween(before: Operations, after: Operations): Operations {
  const slept = before.wokeAt !== after.wokeAt;
  return Object.fromEntries(
    Object.keys(after)
      .filter((key) => key !== "wokeAt")
      .map((key) => [key, slept && key !== "postgresQueries" ? after[key] : after[key] - (before[key] ?? 0)]),
  );
}
export type Target = {
  name: string;
  /** A new room with `members` distinct members (the baseline has one room and no members). */
  newRoom: (members: number) => Promise<BenchRoom>;
  /** Creates one chat over HTTP; resolves when the server answered 201. */
  createChat: (title: string) => Promise<void>;
  /** A request that does no work (no session, no database, no room): the floor of the server's request path. */
  noOp: () => Promise<void>;
};

type Received = { seq: number; clientMessageId: string | null; at: number };

class LoadSocket {
  readonly received: Received[] = [];
  private waiters: (() => void)[] = [];
  lastSeqAtReady = -1;
  onMessage: ((message: Received) => void) | null = null;

  readonly ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("message", (data) => {
      const at = performance.now();
      const event = JSON.parse(String(data)) as {
        type: string;
        seq?: number;
        clientMessageId?: string | null;
        lastSeq?: number;
      };
      if (event.type === "message") {
        const message = { seq: event.seq as number, clientMessageId: event.clientMessageId ?? null, at };
        this.received.push(message);
        this.onMessage?.(message);
      } else if (event.type === "ready") {
        this.lastSeqAtReady = event.lastSeq as number;
      }
      const waiting = this.waiters;
      this.waiters = [];
      for (const wake of waiting) wake();
    });
  }

  static async open(url: string): Promise<LoadSocket> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const socket = new LoadSocket(ws);
    await socket.until(() => socket.lastSeqAtReady >= 0, 30_000);
    return socket;
  }

  send(text: string, clientMessageId: string): void {
    this.ws.send(JSON.stringify({ type: "message", text, clientMessageId }));
  }

  async until(done: () => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error("load socket timed out");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

async function openMany(room: BenchRoom, count: number, after: number): Promise<LoadSocket[]> {
  const sockets: LoadSocket[] = [];
  for (let i = 0; i < count; i++) sockets.push(await LoadSocket.open(room.socketUrl(after)));
  return sockets;
}

export type ClosedLoop = {
  storedPerSecond: number;
  deliveriesPerSecond: number;
  ackP50: number;
  ackP99: number;
  /** The room's billed operations for the whole loop (the sockets were open before it started). */
  operations: Operations | null;
  stored: number;
};

/**
 * Closed loop: every socket (a member each) keeps one message in flight, sending the next when its own comes back
 * stored; timed until every socket has every message. Deliveries = stored × sockets.
 */
export async function closedLoop(target: Target, sockets: number, perSocket: number): Promise<ClosedLoop> {
  const room = await target.newRoom(sockets);
  const all = await openMany(room, sockets, await room.lastSeq());
  const total = sockets * perSocket;
  const acks: number[] = [];
  const operationsBefore = (await room.operations?.()) ?? null;
  const began = performance.now();
  all.forEach((socket, s) => {
    let sent = 0;
    let sentAt = 0;
    const sendNext = () => {
      if (sent >= perSocket) return;
      sentAt = performance.now();
      socket.send(`closed loop ${s}:${sent}`, `c-${s}-${sent}`);
      sent++;
    };
    socket.onMessage = (message) => {
      if (message.clientMessageId !== `c-${s}-${sent - 1}`) return;
      acks.push(message.at - sentAt);
      sendNext();
    };
    sendNext();
  });
  await Promise.all(all.map((socket) => socket.until(() => socket.received.length >= total, 180_000)));
  const seconds = (performance.now() - began) / 1000;
  const operationsAfter = (await room.operations?.()) ?? null;
  for (const socket of all) socket.close();
  return {
    operations: operationsBefore && operationsAfter && operationsBetween(operationsBefore, operationsAfter),
    stored: total,
    storedPerSecond: total / seconds,
    deliveriesPerSecond: (total * sockets) / seconds,
    ackP50: quantile(acks, 0.5),
    ackP99: quantile(acks, 0.99),
  };
}

function quantile(values: number[], q: number): number {
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

export type Latency = { p50: number; p99: number; samples: number };

/** One sender at a steady rate; latency from send to arrival on each of the sockets. */
export async function fanOutLatency(
  target: Target,
  sockets: number,
  perSecond: number,
  seconds: number,
): Promise<Latency> {
  const room = await target.newRoom(sockets);
  const all = await openMany(room, sockets, await room.lastSeq());
  const sentAt = new Map<string, number>();
  const samples: number[] = [];
  for (const socket of all) {
    socket.onMessage = (message) => {
      const sent = message.clientMessageId ? sentAt.get(message.clientMessageId) : undefined;
      if (sent !== undefined) samples.push(message.at - sent);
    };
  }
  const count = perSecond * seconds;
  const interval = 1000 / perSecond;
  const began = performance.now();
  for (let i = 0; i < count; i++) {
    const due = began + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const id = `lat-${i}`;
    // Latency counts from when the message was due, so a sender that fell behind does not hide it.
    sentAt.set(id, due);
    all[0].send(`latency ${i}`, id);
  }
  await Promise.all(all.map((socket) => socket.until(() => socket.received.length >= count)));
  for (const socket of all) socket.close();
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), samples: samples.length };
}

/** REST pages of catch-up: the API's largest, and how many the client asks for at once (as the web client does). */
export const PAGE_SIZE = 500;
const PAGES_IN_FLIGHT = 4;

/** The billed operations of the last backup `catchUp` made (of its room, after filling it). */
export let backupOperations: Operations | null = null;

/**
 * Fills a room with `count` messages, backs it up once where the target can (for its operation counts), then times what a client does to catch up from the start: open a socket with
 * `after=` the start (a room sends at most 1,000 before `ready`), then page the rest over HTTP until the end.
 */
export async function catchUp(target: Target, count: number): Promise<{ ms: number; messagesPerSecond: number }> {
  const room = await target.newRoom(1);
  const start = await room.lastSeq();
  const [writer] = await openMany(room, 1, start);
  const burst = 500;
  for (let sent = 0; sent < count; sent += burst) {
    for (let n = sent; n < sent + burst && n < count; n++) writer.send(`history ${n}`, `h-${n}`);
    await writer.until(() => writer.received.length >= Math.min(count, sent + burst));
  }
  const end = writer.received[writer.received.length - 1].seq;
  writer.close();
  if (room.backup && room.operations) {
    const before = await room.operations();
    await room.backup();
    backupOperations = operationsBetween(before, await room.operations());
  }
  const began = performance.now();
  const reader = await LoadSocket.open(room.socketUrl(start));
  const held = new Set(reader.received.map((message) => message.seq));
  let cursor = start;
  while (held.has(cursor + 1)) cursor++;
  // As the web client does (web/src/chat-connection.ts): a few pages at once, each after `cursor + i × page`.
  while (cursor < end) {
    const pages = Math.min(PAGES_IN_FLIGHT, Math.ceil((end - cursor) / PAGE_SIZE));
    const from = cursor;
    const results = await Promise.all(Array.from({ length: pages }, (_, i) => room.page(from + i * PAGE_SIZE)));
    for (const seqs of results) for (const seq of seqs) held.add(seq);
    while (held.has(cursor + 1)) cursor++;
    if (cursor === from) break;
  }
  const ms = performance.now() - began;
  reader.close();
  if (held.size !== count) throw new Error(`catch-up delivered ${held.size} of ${count}`);
  return { ms, messagesPerSecond: count / (ms / 1000) };
}

export type RequestPath = { p50: number; p99: number; perSecond: number };

/**
 * One request kind, measured twice: `sequential` of them one after another for latency (p50, p99), then the same
 * number with `inFlight` at once for requests per second.
 */
async function requestPath(count: number, inFlight: number, request: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  await request(-1); // a warm-up, not counted: the first request of a kind pays for loading code
  for (let i = 0; i < count; i++) {
    const began = performance.now();
    await request(i);
    latencies.push(performance.now() - began);
  }
  let next = count;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < 2 * count; i = next++) await request(i);
    }),
  );
  const perSecond = count / ((performance.now() - began) / 1000);
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), perSecond };
}

/** A socket opened (as the next of `members` members) until its `ready`, then closed. */
export async function socketOpens(target: Target, members: number, count: number): Promise<RequestPath> {
  const room = await target.newRoom(members);
  const after = await room.lastSeq();
  return requestPath(count, 8, async () => (await LoadSocket.open(room.socketUrl(after))).close());
}

/** A message posted over HTTP (as the next of `members` members) until its 201. */
export async function restPosts(
  target: Target,
  members: number,
  count: number,
): Promise<RequestPath & { operations: Operations | null; requests: number }> {
  const room = await target.newRoom(members);
  const before = (await room.operations?.()) ?? null;
  const measured = await requestPath(count, 8, (i) => room.post(`rest ${i}`, `r-${i}`));
  const after = (await room.operations?.()) ?? null;
  return { ...measured, operations: before && after && operationsBetween(before, after), requests: 2 * count };
}

/** A request that does nothing until its answer: what any request through the server costs. */
export async function noOpRequests(target: Target, count: number): Promise<RequestPath> {
  return requestPath(count, 8, () => target.noOp());
}

/** A chat created over HTTP until its 201. */
export async function chatCreations(target: Target, count: number): Promise<RequestPath> {
  return requestPath(count, 8, (i) => target.createChat(`bench chat ${i}`));
}

export type TokenRoom = {
  socketUrl: () => string;
  /** Starts one stream of `tokens` words, `paceMs` apart (0: flat out), from the given socket. */
  start: (socket: WebSocket, tokens: number, paceMs: number) => void;
  /** What the room's side has counted so far (billed operations; `rowsWritten` is SQLite's total_changes()). */
  operations: () => Promise<Operations>;
};
export type TokenTarget = { name: string; newRoom: (paceMs: number) => Promise<TokenRoom> };
export type TokenFanOut = {
  p50: number;
  p99: number;
  tokensPerSecond: number;
  rowsPerToken: number;
  /** The room's billed operations for the whole run, from the message that starts it to its end. */
  operations: Operations;
};

/**
 * One stream of `tokens` words to `sockets` sockets. Every word is the time it was produced, so each socket can
 * tell how long it took to arrive; timed from the request to the last word on the slowest socket.
 */
export async function tokenFanOut(
  target: TokenTarget,
  sockets: number,
  tokens: number,
  paceMs: number,
): Promise<TokenFanOut> {
  const room = await target.newRoom(paceMs);
  const all: WebSocket[] = [];
  const counts: number[] = [];
  const latencies: number[] = [];
  let finished = 0;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  for (let i = 0; i < sockets; i++) {
    const ws = new WebSocket(room.socketUrl(), { perMessageDeflate: false });
    counts.push(0);
    await new Promise<void>((resolve, reject) => {
      ws.on("message", (data) => {
        const event = JSON.parse(String(data)) as { type: string; text?: string };
        if (event.type === "ready") resolve();
        if (event.type !== "run.delta" || !event.text) return;
        const now = Date.now();
        for (const word of event.text.trim().split(/\s+/)) {
          latencies.push(now - Number(word));
          counts[i]++;
        }
        if (counts[i] === tokens && ++finished === sockets) resolveDone();
      });
      ws.on("error", reject);
      // The baseline has no catch-up: it is ready as soon as it is open.
      ws.on("open", () => (target.name === "baseline" ? resolve() : undefined));
    });
    all.push(ws);
  }
  const before = await room.operations();
  const began = performance.now();
  room.start(all[0], tokens, paceMs);
  await done;
  const seconds = (performance.now() - began) / 1000;
  // Let the run end (the reply is stored then) before counting what it wrote.
  await new Promise((r) => setTimeout(r, 500));
  const operations = operationsBetween(before, await room.operations());
  const rows = operations.rowsWritten ?? 0;
  for (const ws of all) ws.close();
  return {
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    tokensPerSecond: tokens / seconds,
    rowsPerToken: rows / tokens,
    operations,
  };
}

/** A room with `sockets` members connected and nobody writing, for `seconds`: what it does (and bills) meanwhile. */
export async function idleRoom(target: Target, sockets: number, seconds: number): Promise<Operations | null> {
  const room = await target.newRoom(sockets);
  const all = await openMany(room, sockets, await room.lastSeq());
  const before = (await room.operations?.()) ?? null;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const after = (await room.operations?.()) ?? null;
  for (const socket of all) socket.close();
  return before && after && operationsBetween(before, after);
}
