/**
 * Development-only helpers (404 anywhere else):
 * - `/api/dev/echo/*` answers any method with what it received (POST: 201), so the HTTP tool and secret redaction can
 *   be tried with no network; the web client's built-in @assistant is allowed to call it.
 * - `GET /api/dev/chats/:chatId/stats` tells how many rows the chat's room has written since it woke, which the
 *   benchmark uses to count SQLite writes per streamed token.
 */
import { z } from "zod";
import { HTTP_METHODS } from "../../protocol/enums";
import { chatIdParams } from "../../protocol/orgs";
import { isUuid } from "../access";
import { developmentOnly } from "../auth/dev-token";
import { notFound } from "../errors";
import { developmentOnly as developmentOnlyTag, errors, jsonContent, publicRoute, router } from "../openapi";
import { roomStats } from "../orchestrator";

export const echoResponse = z.object({
  method: z.string(),
  path: z.string(),
  headers: z.record(z.string(), z.string()),
  body: z.string().nullable(),
  receivedAt: z.string(),
});
export const roomStatsResponse = z.object({ rowsWritten: z.number().int() });

const statsRoute = publicRoute(
  {
    method: "get",
    path: "/chats/{chatId}/stats",
    tags: ["development"],
    summary: "Rows the chat's room wrote since it woke (development only; for the benchmark)",
    ...developmentOnlyTag,
    middleware: [developmentOnly] as const,
    request: { params: chatIdParams },
    responses: { 200: jsonContent(roomStatsResponse, "SQLite's total_changes() in the room.") },
  },
  ["not_found"],
);

const devTools = router();

export const devToolRoutes = devTools
  .openapi(statsRoute, async function stats(c) {
    const { chatId } = c.req.valid("param");
    if (!isUuid(chatId)) throw notFound("chat not found");
    return c.json(await roomStats(c.env, chatId), 200);
  })
  .all("/echo/*", developmentOnly, async function echo(c) {
    const body = c.req.method === "GET" || c.req.method === "HEAD" ? null : await c.req.text();
    const status = c.req.method === "POST" ? 201 : 200;
    return c.json(
      {
        method: c.req.method,
        path: new URL(c.req.url).pathname,
        headers: Object.fromEntries(c.req.raw.headers),
        body,
        receivedAt: new Date().toISOString(),
      },
      status,
    );
  });

/** The echo route answers every method, so it enters the document by hand, once per method. */
for (const method of HTTP_METHODS) {
  if (method === "HEAD") continue;
  devTools.openAPIRegistry.registerPath({
    method: method.toLowerCase() as Lowercase<Exclude<(typeof HTTP_METHODS)[number], "HEAD">>,
    path: "/echo/{path}",
    tags: ["development"],
    summary: "Answers with the method, path, headers and body it received (development only)",
    ...developmentOnlyTag,
    request: { params: z.object({ path: z.string().meta({ description: "Any path, slashes included." }) }) },
    responses: {
      [method === "POST" ? 201 : 200]: jsonContent(echoResponse, "What was received."),
      ...errors("bad_request", "not_found", "payload_too_large", "internal"),
    },
  });
}
