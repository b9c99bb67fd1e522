/**
 * The baseline: a bare Node WebSocket + SQLite broadcast server speaking the same protocol as a Parlor room
 * (catch-up after `?after=`, `ready`, stored-then-broadcast messages), with no auth, no validation beyond JSON,
 * no hibernation and no Worker in front. What a room costs is measured against this.
 */
import { randomUUID } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { WebSocketServer } from "ws";

const port = Number(process.argv[2]);
const db = new DatabaseSync(process.argv[3]);
db.exec(`
  PRAGMA journal_mode = WAL;
  PRAGMA synchronous = FULL;
  CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL, author_id TEXT NOT NULL,
    client_message_id TEXT, text TEXT NOT NULL, created_at TEXT NOT NULL
  );
`);
const insert = db.prepare(
  `INSERT INTO messages (seq, id, author_id, client_message_id, text, created_at)
   VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM messages), ?, ?, ?, ?, ?) RETURNING seq`,
);
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

const server = new WebSocketServer({ host: "127.0.0.1", port });
server.on("connection", (ws, request) => {
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
    const id = randomUUID();
    const createdAt = new Date().toISOString();
    const { seq } = insert.get(id, user, frame.clientMessageId ?? null, frame.text, createdAt) as { seq: number };
    const payload = event({
      seq,
      id,
      author_id: user,
      client_message_id: frame.clientMessageId ?? null,
      text: frame.text,
      created_at: createdAt,
    });
    for (const client of server.clients) client.send(payload);
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
    for (const client of server.clients) client.send(payload);
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

server.on("listening", () => process.send?.("listening"));
