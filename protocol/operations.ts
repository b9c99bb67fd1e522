/** Answers of the endpoints that serve operators and development rather than chat: webhooks and dev tools. */
import { z } from "zod";

export const webhookReceivedResponse = z.object({
  received: z.literal(true),
  /** A redelivery of an id already applied: nothing changed. */
  duplicate: z.literal(true).optional(),
});

/** `/api/dev/echo/*`: what the echo endpoint received. */
export const echoResponse = z.object({
  method: z.string(),
  path: z.string(),
  headers: z.record(z.string(), z.string()),
  body: z.string().nullable(),
  receivedAt: z.string(),
});

/** `GET /api/dev/chats/:chatId/stats`: SQLite rows the chat's room wrote since it woke. */
export const roomStatsResponse = z.object({ rowsWritten: z.number().int() });

export const echoParams = z.object({ path: z.string().meta({ description: "Any path, slashes included." }) });

/** `GET /api/openapi.json`: the OpenAPI 3.1 document itself. */
export const openApiDocumentResponse = z.record(z.string(), z.unknown());
