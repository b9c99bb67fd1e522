/**
 * Development-only helpers (404 anywhere else):
 * - `/api/dev/echo/*` answers any method with what it received (POST: 201), so the HTTP tool can be tried with no
 *   network; the web client's built-in @assistant is allowed to call it.
 * - `GET /api/dev/chats/:chatId/stats` tells how many rows the chat's room has written since it woke, which the
 *   benchmark uses to count SQLite writes per streamed token.
 */
import { Hono } from "hono";
import { isUuid } from "../access";
import { developmentOnly } from "../auth/dev-token";
import type { AppEnv } from "../context";
import { notFound } from "../errors";
import { roomStats } from "../orchestrator";

export const devToolRoutes = new Hono<AppEnv>()
  .all("/echo/*", developmentOnly, async function echo(c) {
    const body = c.req.method === "GET" || c.req.method === "HEAD" ? null : await c.req.text();
    const status = c.req.method === "POST" ? 201 : 200;
    return c.json(
      { method: c.req.method, path: new URL(c.req.url).pathname, body, receivedAt: new Date().toISOString() },
      status,
    );
  })
  .get("/chats/:chatId/stats", developmentOnly, async function stats(c) {
    const chatId = c.req.param("chatId");
    if (!isUuid(chatId)) throw notFound("chat not found");
    return c.json(await roomStats(c.env, chatId));
  });
