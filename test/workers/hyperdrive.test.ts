/**
 * The production database path: the Worker reads `env.HYPERDRIVE.connectionString` before `DATABASE_URL`
 * (api/db/client.ts, api/health.ts). Here `HYPERDRIVE` is a real Hyperdrive binding, miniflare's local one
 * (`TEST_HYPERDRIVE` in vitest.config.ts, pointing at this run's test database), and `DATABASE_URL` is a database that
 * never answers (test/hung-postgres.ts) with a short deadline: a request that fell back to `DATABASE_URL` would answer
 * 503, so every 2xx below went through the binding.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../api/worker";
import { checkAnswer } from "./contract";
import { tokenFor, unique } from "./helpers";

const testEnv = env as unknown as { TEST_HYPERDRIVE: Hyperdrive; TEST_HUNG_DATABASE_URL: string };
const hyperdrive = testEnv.TEST_HYPERDRIVE;
/** The Worker's env as production has it: the binding, and no usable DATABASE_URL behind it. */
const productionEnv: Env = {
  ...env,
  HYPERDRIVE: hyperdrive,
  DATABASE_URL: testEnv.TEST_HUNG_DATABASE_URL,
  PARLOR_DB_DEADLINE_MS: "3000",
};

/** The Worker called with `withEnv`; every answer is checked against its route's declared schema. */
async function call(withEnv: Env, method: string, path: string, token: string | null, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`http://localhost${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }) as Parameters<typeof worker.fetch>[0],
    withEnv,
    ctx,
  );
  const json = (await response.json()) as Record<string, unknown>;
  checkAnswer(method, new URL(`http://localhost${path}`).pathname, response.status, json);
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: json };
}

describe("the HYPERDRIVE binding", () => {
  it("is a Hyperdrive of its own, not the DATABASE_URL it stands in for", () => {
    expect(typeof hyperdrive.connectionString).toBe("string");
    expect(hyperdrive.connectionString).not.toBe(env.DATABASE_URL);
    expect(new URL(hyperdrive.connectionString).host).not.toBe(new URL(env.DATABASE_URL as string).host);
  });

  it("carries REST calls: an org, a chat and a message are written and read back through it", async () => {
    const userId = unique("hyperdrive");
    const token = await tokenFor(userId, "Hyper Drive");
    const name = unique("hyperdrive-org");

    const created = await call(productionEnv, "POST", "/api/orgs", token, { name });
    expect(created.status).toBe(201);
    const orgId = created.body.id as string;

    const listed = await call(productionEnv, "GET", "/api/orgs", token);
    expect(listed.status).toBe(200);
    expect(listed.body.orgs).toContainEqual(expect.objectContaining({ id: orgId, name }));

    const members = await call(productionEnv, "GET", `/api/orgs/${orgId}/members`, token);
    expect(members.status).toBe(200);
    expect(members.body.members).toEqual([expect.objectContaining({ userId, role: "admin" })]);

    const chat = await call(productionEnv, "POST", `/api/orgs/${orgId}/chats`, token, { title: "over hyperdrive" });
    expect(chat.status).toBe(201);
    const chatId = chat.body.id as string;

    const clientMessageId = crypto.randomUUID();
    const posted = await call(productionEnv, "POST", `/api/chats/${chatId}/messages`, token, {
      text: "through the binding",
      clientMessageId,
    });
    expect(posted.status).toBe(201);

    const page = await call(productionEnv, "GET", `/api/chats/${chatId}/messages`, token);
    expect(page.status).toBe(200);
    expect(page.body.messages).toEqual([expect.objectContaining({ clientMessageId, text: "through the binding" })]);
  });

  it("is what health probes, and without it the same env's DATABASE_URL does not answer", async () => {
    const healthy = await call(productionEnv, "GET", "/api/health", null);
    expect(healthy.status).toBe(200);
    expect(healthy.body).toMatchObject({ ok: true, database: { ok: true } });

    // The control: the same env without the binding falls back to DATABASE_URL, the database that never answers.
    const token = await tokenFor(unique("hyperdrive-control"));
    const fallback = await call({ ...productionEnv, HYPERDRIVE: undefined }, "GET", "/api/orgs", token);
    expect(fallback.status).toBe(503);
  });
});
