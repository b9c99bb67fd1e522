import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { openDatabase } from "../db/client";

/** Opens this request's database client and closes it once the response is on its way. */
export const database = createMiddleware<AppEnv>(async function withDatabase(c, next) {
  const { db, close } = openDatabase(c.env);
  c.set("db", db);
  try {
    await next();
  } finally {
    c.executionCtx.waitUntil(close());
  }
});
