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

const count = z.number().int().nonnegative();

/**
 * `GET /api/dev/chats/:chatId/stats`: what the chat's room did since it woke (`since`), the operations Cloudflare
 * bills, for the benchmark and the cost model. Reading them is one more RPC, counted in `requests.rpc`.
 */
export const roomStatsResponse = z.object({
  /** SQLite's total_changes(): rows inserted, updated or deleted since the room woke. */
  rowsWritten: z.number().int(),
  since: z.string().meta({ format: "date-time" }),
  requests: z.object({
    /** RPC calls on the room (the Orchestrator's, agents' `openRun`, summary jobs'). */
    rpc: count,
    /** RPC calls on run capabilities it handed out (an agent's deltas, tools, approvals, end). */
    capability: count,
    socketUpgrades: count,
    /** Frames received on its sockets (billed as requests at 20 to 1). */
    socketMessages: count,
    alarms: count,
  }),
  /** Every statement the room ran and the rows its cursors report (the rows Cloudflare bills). */
  sql: z.object({ execs: count, rowsRead: count, rowsWritten: count }),
  /** R2 calls on the backups bucket: class A (put, list, multipart), class B (get, head), free (delete). */
  r2: z.object({ classA: count, classB: count, free: count }),
  /** Postgres queries this isolate made since it started: in development the Worker and every object share it. */
  postgresQueries: count,
});

export const echoParams = z.object({ path: z.string().meta({ description: "Any path, slashes included." }) });

/** `GET /api/openapi.json`: the OpenAPI 3.1 document itself. */
export const openApiDocumentResponse = z.record(z.string(), z.unknown());
