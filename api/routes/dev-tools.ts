import { HTTP_METHODS } from "../../protocol/enums";
import { echoParams, echoResponse, roomStatsResponse } from "../../protocol/operations";
import { chatIdParams } from "../../protocol/orgs";
import { isUuid } from "../access";
import { developmentOnly } from "../auth/dev-token";
import { postgresStatements } from "../db/client";
import { notFound } from "../errors";
import { developmentOnly as developmentOnlyTag, errors, jsonContent, publicRoute, router } from "../openapi";
import { roomStats } from "../orchestrator";

const statsRoute = publicRoute(
  {
    method: "get",
    path: "/chats/{chatId}/stats",
    tags: ["development"],
    summary: "What the chat's room did since it woke, in billed units (development only; for the benchmark)",
    description:
      "Requests and RPC calls it served, SQLite statements and the rows they read and wrote, R2 calls by price " +
      "class, and the Postgres statements of this isolate (since it started, not since the room woke).",
    ...developmentOnlyTag,
    middleware: [developmentOnly] as const,
    request: { params: chatIdParams },
    responses: { 200: jsonContent(roomStatsResponse, "The room's operations since it woke.") },
  },
  ["not_found"],
);

const devTools = router();

export const devToolRoutes = devTools
  .openapi(statsRoute, async function stats(c) {
    const { chatId } = c.req.valid("param");
    if (!isUuid(chatId)) throw notFound("chat not found");
    const stats = await roomStats(c.env, chatId);
    return c.json({ ...stats, postgresQueries: postgresStatements() }, 200);
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
    request: { params: echoParams },
    responses: {
      [method === "POST" ? 201 : 200]: jsonContent(echoResponse, "What was received."),
      ...errors("bad_request", "not_found", "payload_too_large", "internal"),
    },
  });
}
