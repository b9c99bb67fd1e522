/**
 * `GET /api/health`: the database (`SELECT 1`) and a probe room (a ChatRoom named `health-probe`, asked for its cheap
 * `stats()`), each timed and bounded by the database deadline. 200 when both answer, 503 with the same shape when
 * either does not. The endpoint is public, so an isolate reuses its answer for a few seconds rather than probing
 * on every call.
 */
import { sql } from "drizzle-orm";
import type { z } from "zod";
import type { healthResponse } from "../protocol/orgs";
import type { ChatRoom } from "../rooms/chat-room";
import { databaseDeadlineMs, openDatabase } from "./db/client";

export type Health = z.infer<typeof healthResponse>;
type Probe = Health["database"];

/** How long an isolate reuses its answer. */
export const HEALTH_CACHE_MS = 5000;
export const HEALTH_PROBE_ROOM = "health-probe";

/** Per isolate, by connection string (tests probe more than one database from the same isolate). */
const cache = new Map<string, { at: number; health: Health }>();

async function timed(deadlineMs: number, work: () => Promise<unknown>): Promise<Probe> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      work(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("probe missed its deadline")), deadlineMs);
      }),
    ]);
    return { ok: true, ms: Date.now() - started };
  } catch {
    return { ok: false, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

async function probe(env: Env, waitUntil: (promise: Promise<unknown>) => void): Promise<Health> {
  const deadlineMs = databaseDeadlineMs(env);
  const [database, room] = await Promise.all([
    timed(deadlineMs, async () => {
      const { db, close } = openDatabase(env);
      try {
        await db.execute(sql`SELECT 1`);
      } finally {
        waitUntil(close().catch(() => {}));
      }
    }),
    timed(deadlineMs, () => (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(HEALTH_PROBE_ROOM).stats()),
  ]);
  return { ok: database.ok && room.ok, database, room };
}

/**
 * The cached answer when it is fresh, else a new probe. Only settled answers are kept: a pending one belongs to the
 * request that started it, and another request may not wait on that request's I/O.
 */
export async function checkHealth(env: Env, waitUntil: (promise: Promise<unknown>) => void): Promise<Health> {
  const key = env.HYPERDRIVE?.connectionString ?? env.DATABASE_URL ?? "";
  const cached = cache.get(key);
  if (cached && Date.now() - cached.at < HEALTH_CACHE_MS) return cached.health;
  const health = await probe(env, waitUntil);
  cache.set(key, { at: Date.now(), health });
  return health;
}
