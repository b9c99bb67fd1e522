/**
 * `/api/dev/echo/*` (development only): a target for trying the HTTP tool with no network. It answers any method
 * with what it received; POST answers 201. The web client's built-in @assistant is allowed to call it.
 */
import { Hono } from "hono";
import { developmentOnly } from "../auth/dev-token";
import type { AppEnv } from "../context";

export const devEchoRoutes = new Hono<AppEnv>().all("/echo/*", developmentOnly, async function echo(c) {
  const body = c.req.method === "GET" || c.req.method === "HEAD" ? null : await c.req.text();
  const status = c.req.method === "POST" ? 201 : 200;
  return c.json(
    { method: c.req.method, path: new URL(c.req.url).pathname, body, receivedAt: new Date().toISOString() },
    status,
  );
});
