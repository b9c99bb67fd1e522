/**
 * A database that accepts connections and never answers (test/hung-postgres.ts, what a PostgreSQL stopped with
 * SIGSTOP looks like): every call gives up at the deadline, REST answers 503 `unavailable` with Retry-After, health
 * answers 503 naming the database, nothing is half-written, and the next request against a database that answers
 * works again. No assertion times anything: the test timeout is the only clock.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable, openDatabase } from "../../api/db/client";
import { orgs } from "../../api/db/schema";
import worker from "../../api/worker";
import { checkAnswer } from "./contract";
import { tokenFor, unique } from "./helpers";

const hungUrl = (env as unknown as { TEST_HUNG_DATABASE_URL: string }).TEST_HUNG_DATABASE_URL;
const DEADLINE_MS = 1000;
/** The Worker's env with its database hung, and a short deadline so the test stays quick. */
const hungEnv = { ...env, HYPERDRIVE: undefined, DATABASE_URL: hungUrl, PARLOR_DB_DEADLINE_MS: String(DEADLINE_MS) };

/**
 * The Worker called with `testEnv`; the answer is checked against its route's declared schema, except a 503 from a
 * route that does not declare one yet (api/openapi.ts declares no 503 for authenticated routes; see the report).
 */
async function fetchWith(testEnv: Env, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`http://localhost${path}`, init) as Parameters<typeof worker.fetch>[0],
    testEnv,
    ctx,
  );
  const body = await response.clone().json();
  if (response.status !== 503 || path === "/api/health") checkAnswer(init.method ?? "GET", path, response.status, body);
  await waitOnExecutionContext(ctx);
  return response;
}

async function rejection(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe("the database deadline", () => {
  it("a query, and a transaction, against a hung database fail as unavailable, and so does every later call", async () => {
    const { db, close } = openDatabase(hungEnv);
    try {
      expect(isDatabaseUnavailable(await rejection(db.execute(sql`SELECT 1`)))).toBe(true);
      const inTransaction = db.transaction(async (tx) => {
        await tx.execute(sql`SELECT 1`);
      });
      expect(isDatabaseUnavailable(await rejection(inTransaction))).toBe(true);
      expect(isDatabaseUnavailable(await rejection(db.select().from(orgs).limit(1)))).toBe(true);
    } finally {
      await close();
    }
  });

  it("a deadline missed mid-transaction ends the connection, and Postgres keeps nothing of it", async () => {
    const name = unique("deadline-org");
    const { db, close } = openDatabase({ ...env, PARLOR_DB_DEADLINE_MS: "500" });
    try {
      const transaction = db.transaction(async (tx) => {
        await tx.insert(orgs).values({ name });
        await tx.execute(sql`SELECT pg_sleep(3)`);
      });
      expect(isDatabaseUnavailable(await rejection(transaction))).toBe(true);
    } finally {
      await close();
    }
    const fresh = openDatabase(env);
    try {
      expect(await fresh.db.select().from(orgs).where(eq(orgs.name, name))).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  it("REST answers 503 unavailable with Retry-After while the database hangs, and works again once it answers", async () => {
    const token = await tokenFor(unique("user"));
    const headers = { Authorization: `Bearer ${token}` };
    const hung = await fetchWith(hungEnv, "/api/orgs", { headers });
    expect(hung.status).toBe(503);
    expect(Number(hung.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await hung.json()).toEqual({ error: { code: "unavailable", message: expect.any(String) } });

    const recovered = await fetchWith(env, "/api/orgs", { headers });
    expect(recovered.status).toBe(200);
  });

  it("health answers 503 naming the database while it hangs, and 200 with both probes when it answers", async () => {
    const hung = await fetchWith(hungEnv, "/api/health");
    expect(hung.status).toBe(503);
    expect(hung.headers.get("Retry-After")).not.toBeNull();
    const body = await hung.json();
    expect(body).toMatchObject({ ok: false, database: { ok: false }, room: { ok: true } });

    const healthy = await fetchWith(env, "/api/health");
    expect(healthy.status).toBe(200);
    expect(await healthy.json()).toEqual({
      ok: true,
      database: { ok: true, ms: expect.any(Number) },
      room: { ok: true, ms: expect.any(Number) },
    });
  });
});
