/**
 * How many of a chat's run slots its runs take (`runSlotsTaken`), on a real room's SQLite: runs parked on a `wait`
 * approval past its expiry go free, but only `MAX_PARKED_RUNS` of them. (The behaviour through the room, ten waiting
 * runs and an eleventh message, is in approval-quorum.test.ts; 50 parked runs are too slow to make through a model.)
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ChatRoom } from "../../rooms/chat-room";
import { MAX_PARKED_RUNS, runSlotsTaken } from "../../rooms/runs";
import { unique } from "./helpers";

const now = new Date("2030-01-01T12:00:00.000Z");
const past = new Date(now.getTime() - 1000).toISOString();
const future = new Date(now.getTime() + 60_000).toISOString();

function addRun(sql: SqlStorage, approval: { onExpiry: "wait" | "deny"; expiresAt: string } | null): void {
  const runId = crypto.randomUUID();
  sql.exec(
    `INSERT INTO runs (run_id, agent_id, trigger_seq, initiator, status, started_at) VALUES (?, 'agent', 1, 'ana', 'running', ?)`,
    runId,
    now.toISOString(),
  );
  if (!approval) return;
  sql.exec(
    `INSERT INTO approvals (approval_id, run_id, agent_id, tool_call_id, method, url, headers, approvers, initiator,
       status, expires_at, created_at, on_expiry)
     VALUES (?, ?, 'agent', 'call', 'POST', 'https://example.test/', '{}', 'members', 'ana', 'pending', ?, ?, ?)`,
    crypto.randomUUID(),
    runId,
    approval.expiresAt,
    now.toISOString(),
    approval.onExpiry === "wait" ? "wait" : null,
  );
}

describe("a chat's run slots", () => {
  it("runs in progress take a slot, waiting or not; parked past a wait expiry they do not, up to the cap", async () => {
    const stub = (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(unique("slots"));
    const taken = await runInDurableObject(stub, (_room, state) => {
      const sql = state.storage.sql;
      const counts: number[] = [];
      addRun(sql, null);
      addRun(sql, { onExpiry: "wait", expiresAt: future });
      addRun(sql, { onExpiry: "deny", expiresAt: past });
      counts.push(runSlotsTaken(sql, now));
      for (let i = 0; i < MAX_PARKED_RUNS; i++) addRun(sql, { onExpiry: "wait", expiresAt: past });
      counts.push(runSlotsTaken(sql, now));
      addRun(sql, { onExpiry: "wait", expiresAt: past });
      addRun(sql, { onExpiry: "wait", expiresAt: past });
      counts.push(runSlotsTaken(sql, now));
      return counts;
    });
    expect(taken).toEqual([3, 3, 5]);
  });
});
