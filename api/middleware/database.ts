import { createMiddleware } from "hono/factory";
import { auditTrail } from "../audit/trail";
import type { AppEnv } from "../context";
import { openDatabase } from "../db/client";

/**
 * Opens this request's database client and its audit trail (entries carry the request id), and closes the client
 * once the response is on its way.
 */
export const database = createMiddleware<AppEnv>(async function withDatabase(c, next) {
  const { db, close } = openDatabase(c.env);
  c.set("db", db);
  const audit = auditTrail(c.var.requestId ?? crypto.randomUUID());
  c.set("audit", audit);
  try {
    await next();
  } finally {
    c.executionCtx.waitUntil(audit.settle(c.env).finally(close));
  }
});
