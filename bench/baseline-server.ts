/**
 * The baseline: a bare Node WebSocket + SQLite broadcast server speaking the same protocol as a Parlor room
 * (catch-up after `?after=`, `ready`, stored-then-broadcast messages), with no auth, no validation beyond JSON,
 * no hibernation and no Worker in front. What a room costs is measured against this.
 *
 * `node baseline-server.ts <port> <db file> <mode>`, mode:
 * - `per-commit`: every message is its own transaction, synced before it is broadcast (WAL, synchronous = FULL);
 *   the durability a room's storage gives, one commit per message.
 * - `group-commit`: messages that arrive together (in one turn of the event loop) share one transaction and one
 *   sync; none is broadcast before that commit. The physical limit of a server that syncs what it acknowledges.
 *
 * Its HTTP side mirrors the request path of the REST API: `POST /messages` (store and broadcast, 201 with the
 * message) and `POST /chats` (a row, 201 with its id); the socket's `ready` is the end of a socket open.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { DatabaseSync } from "node:sqlite";
import { WebSocketServer } from "ws";

const port = Number(process.argv[2]);
const db = new DatabaseSync(process.argv[3]);
const mode = process.argv[4] === "group-commit" ? "group-commit" : "per-commit";
db.exec(`
  PRAGMA journal_mode = WAL;
  PRAGMA synchronous = FULL;
  CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL, author_id TEXT NOT NULL,
    client_message_id TEXT, text TEXT NOT NULL, created_at TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS chats (id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at TEXT NOT NULL);
`);
const insert = db.prepare(
  `INSERT INTO messages (seq, id, author_id, client_message_id, text, created_at)
   VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM messages), ?, ?, ?, ?, ?) RETURNING seq`,
);
const insertChat = db.prepare("INSERT INTO chats (id, title, created_at) VALUES (?, ?, ?)");
const after = db.prepare("SELECT * FROM messages WHERE seq > ? ORDER BY seq LIMIT 500");
const last = db.prepare("SELECT coalesce(max(seq), 0) AS seq FROM messages");

type Row = {
  seq: number;
  id: string;
  author_id: string;
  client_message_id: string | null;
  text: string;
  created_at: string;
};
const event = (row: Row) =>
  JSON.stringify({
    type: "message",
    seq: row.seq,
    id: row.id,
    clientMessageId: row.client_message_id,
    author: { type: "user", id: row.author_id },
    text: row.text,
    createdAt: row.created_at,
  });

type Incoming = { user: string; text: string; clientMessageId: string | null; stored: (payload: string) => void };

function store(message: Incoming): string {
  const id = randomUUID();
  const createdAt = new Date().toISOString();
  const { seq } = insert.get(id, message.user, message.clientMessageId, message.text, createdAt) as { seq: number };
  return event({
    seq,
    id,
    author_id: message.user,
    client_message_id: message.clientMessageId,
    text: message.text,
    created_at: createdAt,
  });
}

let queued: Incoming[] = [];
/** Stores every message that arrived in this turn in one transaction, then broadcasts them, in order. */
function commitQueued(): void {
  const batch = queued;
  queued = [];
  db.exec("BEGIN");
  const payloads = batch.map(store);
  db.exec("COMMIT");
  for (const [i, message] of batch.entries()) message.stored(payloads[i]);
}

function accept(message: Incoming): void {
  if (mode === "per-commit") {
    message.stored(store(message));
    return;
  }
  if (queued.length === 0) setImmediate(commitQueued);
  queued.push(message);
}

function broadcast(payload: string): void {
  for (const client of sockets.clients) client.send(payload);
}

async function body(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString() || "{}");
}

function answer(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(value));
}

const http = createServer(async (request, response) => {
  try {
    const json = await body(request);
    if (request.method === "POST" && request.url === "/messages" && typeof json.text === "string") {
      accept({
        user: "bench",
        text: json.text,
        clientMessageId: typeof json.clientMessageId === "string" ? json.clientMessageId : null,
        stored: (payload) => {
          broadcast(payload);
          answer(response, 201, { message: JSON.parse(payload) });
        },
      });
      return;
    }
    if (request.method === "GET" && request.url === "/config") {
      answer(response, 200, { clerkPublishableKey: null, devSignIn: true });
      return;
    }
    if (request.method === "POST" && request.url === "/chats") {
      const id = randomUUID();
      insertChat.run(id, typeof json.title === "string" ? json.title : "chat", new Date().toISOString());
      answer(response, 201, { id });
      return;
    }
    answer(response, 404, { error: { code: "not_found", message: "no such route" } });
  } catch {
    answer(response, 400, { error: { code: "bad_request", message: "body is not JSON" } });
  }
});

const sockets = new WebSocketServer({ server: http });
sockets.on("connection", (ws, request) => {
  const url = new URL(request.url ?? "/", "http://localhost");
  const user = url.searchParams.get("user") ?? "anon";
  let cursor = Number(url.searchParams.get("after") ?? 0);
  for (;;) {
    const page = after.all(cursor) as Row[];
    for (const row of page) ws.send(event(row));
    if (page.length < 500) break;
    cursor = page[page.length - 1].seq;
  }
  ws.send(
    JSON.stringify({ type: "ready", lastSeq: (last.get() as { seq: number }).seq, you: { id: user, name: user } }),
  );
  ws.on("message", (data) => {
    let frame: { type?: string; text?: string; clientMessageId?: string };
    try {
      frame = JSON.parse(String(data));
    } catch {
      ws.send(JSON.stringify({ type: "error", code: "bad_request", message: "frame is not JSON" }));
      return;
    }
    if (frame.type === "bench.stream") {
      streamTokens(frame as unknown as { tokens: number; paceMs: number });
      return;
    }
    if (frame.type !== "message" || typeof frame.text !== "string") return;
    accept({ user, text: frame.text, clientMessageId: frame.clientMessageId ?? null, stored: broadcast });
  });
});

/**
 * The baseline of token fan-out: the server itself produces `tokens` words, each the time it was produced, at
 * `paceMs` apart (0: as fast as it can), and sends each to every socket as a run.delta. Nothing is written.
 */
function streamTokens({ tokens, paceMs }: { tokens: number; paceMs: number }): void {
  const runId = randomUUID();
  let index = 0;
  let sent = 0;
  const emit = () => {
    const text = `${Date.now()} `;
    const payload = JSON.stringify({ type: "run.delta", runId, agentId: "baseline", text, index });
    index += text.length;
    broadcast(payload);
    sent++;
  };
  const next = () => {
    if (sent >= tokens) return;
    emit();
    if (paceMs > 0) setTimeout(next, paceMs);
    else setImmediate(next);
  };
  next();
}

http.listen(port, "127.0.0.1", () => process.send?.("listening"));
