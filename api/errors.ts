/** One error type for the App API, mapped to the contract's `{ error: { code, message } }` in one place. */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorBody, ErrorCode } from "../protocol/chat";

const statusOf: Record<ErrorCode, ContentfulStatusCode> = {
  bad_request: 400,
  unauthorized: 401,
  payment_required: 402,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  internal: 500,
};

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): ContentfulStatusCode {
    return statusOf[this.code];
  }
}

export const badRequest = (message: string) => new ApiError("bad_request", message);
export const unauthorized = (message: string) => new ApiError("unauthorized", message);
export const forbidden = (message: string) => new ApiError("forbidden", message);
export const notFound = (message: string) => new ApiError("not_found", message);
export const conflict = (message: string) => new ApiError("conflict", message);

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

export function toErrorResponse(error: Error, c: Context): Response {
  if (error instanceof ApiError) return c.json(errorBody(error.code, error.message), error.status);
  if (error instanceof HTTPException) {
    const code = (Object.keys(statusOf) as ErrorCode[]).find((k) => statusOf[k] === error.status) ?? "bad_request";
    return c.json(errorBody(code, error.message || "request refused"), error.status as ContentfulStatusCode);
  }
  console.error("unexpected error", error);
  return c.json(errorBody("internal", "something went wrong on our side"), 500);
}
