/**
 * Structured logs: one JSON object per line (Workers Logs indexes its fields), through console.log / warn / error by
 * level. Every line has `level`, `event` (a fixed snake_case name) and `requestId` (null outside a request), and may
 * carry `orgId`, `chatId`, `runId`, `userId` and a few more plain fields.
 *
 * The rule: a log line NEVER holds a session token, a socket ticket, a secret's value, a signature, a header's value,
 * a request or response body, or any text a person or agent wrote (messages, prompts, tool input or output). Log ids,
 * counts, statuses, paths without their query, and reasons written by Parlor itself. A query string is never logged:
 * `?token=` and `?ticket=` travel there.
 */

import { postgresErrorCode } from "./db/client";
export type LogLevel = "info" | "warn" | "error";

export type LogFields = {
  requestId?: string | null;
  orgId?: string;
  chatId?: string;
  runId?: string;
  userId?: string;
  /** Any other plain field: an id, a count, a status, a reason Parlor wrote. Never a token, secret or user text. */
  [field: string]: string | number | boolean | null | undefined;
};

const write: Record<LogLevel, (line: string) => void> = {
  info: (line) => console.log(line),
  warn: (line) => console.warn(line),
  error: (line) => console.error(line),
};

export function log(level: LogLevel, event: string, fields: LogFields = {}): void {
  const { requestId = null, ...rest } = fields;
  write[level](JSON.stringify({ level, event, requestId, ...rest }));
}

const MAX_ERROR_MESSAGE = 300;

/**
 * What a log line says about a caught error: its class and its message, cut short. Two kinds keep no message: the AI
 * SDK's (`AI_…`), since a model vendor's may echo the prompt or the response (their HTTP status is kept), and failed
 * queries (drizzle's carry the statement's parameters, which can be titles, names or prompts; the Postgres error
 * code is kept).
 */
export function errorFields(error: unknown): {
  errorName: string;
  errorMessage?: string;
  errorStatus?: number;
  errorCode?: string;
} {
  if (!(error instanceof Error)) return { errorName: typeof error };
  if (error.name.startsWith("AI_")) {
    const status = (error as { statusCode?: unknown }).statusCode;
    return typeof status === "number" ? { errorName: error.name, errorStatus: status } : { errorName: error.name };
  }
  // node-postgres's own errors (`DatabaseError`) carry `severity`; drizzle's wrapper carries `params`.
  if ("params" in error || "query" in error || "severity" in error) {
    const code = postgresErrorCode(error);
    return code ? { errorName: error.name, errorCode: code } : { errorName: error.name };
  }
  return { errorName: error.name, errorMessage: error.message.slice(0, MAX_ERROR_MESSAGE) };
}
