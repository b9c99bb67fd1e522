/** One error type for the App API, mapped to the contract's `{ error: { code, message } }` in one place. */

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ERROR_STATUS, type ErrorBody, type ErrorCode } from "../protocol/errors";
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from "./db/client";
import { SecretsUnavailable } from "./db/secret-values";
import { errorFields, log } from "./log";

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Seconds the client should wait before trying again, sent as `Retry-After`. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  get status(): ContentfulStatusCode {
    return ERROR_STATUS[this.code];
  }
}

export const badRequest = (message: string) => new ApiError("bad_request", message);
export const unauthenticated = (message: string) => new ApiError("unauthenticated", message);
export const forbidden = (message: string) => new ApiError("forbidden", message);
export const notFound = (message: string) => new ApiError("not_found", message);
export const conflict = (message: string) => new ApiError("conflict", message);
export const unavailable = (message: string) => new ApiError("unavailable", message);
export const payloadTooLarge = (message: string) => new ApiError("payload_too_large", message);

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

/** Hono's own refusals (malformed JSON: 400; a body that is not JSON: 415) keep their status and get our code. */
function codeOfStatus(status: number): ErrorCode {
  const match = (Object.keys(ERROR_STATUS) as ErrorCode[]).find((code) => ERROR_STATUS[code] === status);
  return match ?? (status >= 500 ? "internal" : "bad_request");
}

export function toErrorResponse(error: Error, c: Context): Response {
  if (error instanceof ApiError) {
    if (error.retryAfter !== undefined) c.header("Retry-After", String(error.retryAfter));
    return c.json(errorBody(error.code, error.message), error.status);
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    return c.json(errorBody(codeOfStatus(status), error.message || "request refused"), status);
  }
  if (isDatabaseUnavailable(error)) {
    c.header("Retry-After", String(DATABASE_RETRY_AFTER_SECONDS));
    return c.json(errorBody("unavailable", "the database did not answer in time; try again shortly"), 503);
  }
  if (error instanceof SecretsUnavailable) return c.json(errorBody("unavailable", error.message), 503);
  log("error", "unexpected_error", {
    requestId: c.var.requestId ?? null,
    path: new URL(c.req.url).pathname,
    ...errorFields(error),
  });
  return c.json(errorBody("internal", "something went wrong on our side"), 500);
}
