/**
 * Small helpers for declaring routes with their schemas (`@hono/zod-openapi`), so every REST endpoint is born in
 * the OpenAPI document with its request, its answers and its error answers.
 */
import { createRoute, OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { z } from "zod";
import { ERROR_STATUS, type ErrorCode, errorBodySchema } from "../protocol/errors";
import type { AppEnv } from "./context";
import { validationHook } from "./validation";

/** A router whose failed validations answer the contract's 400. */
export function router<E extends AppEnv = AppEnv>() {
  return new OpenAPIHono<E>({ defaultHook: validationHook });
}

export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { content: { "application/json": { schema } }, description };
}

/** A required JSON body: without a JSON Content-Type it is refused (415), never skipped. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { content: { "application/json": { schema } }, required: true };
}

const errorDescriptions: Record<ErrorCode, string> = {
  bad_request: "Bad input: malformed JSON or UTF-8, a field that fails validation.",
  unauthenticated: "Missing, expired or invalid session token.",
  billing_lapsed: "The org's billing has lapsed.",
  forbidden: "A member who lacks the right.",
  not_found: "No such resource, or one the caller may not know exists.",
  conflict: "The request conflicts with what is stored.",
  payload_too_large: "The body is over 64 KiB.",
  unsupported_media_type: "The body is not JSON.",
  backup_corrupt: "The backup is corrupt or partial.",
  rate_limited: "Too many requests; see Retry-After.",
  quota_exceeded: "A quota is spent.",
  internal: "A fault on Parlor's side; nothing was half-written.",
  unavailable: "A dependency is unavailable; retry later.",
};

/** Error answers, by code; codes that share a status (429) share one entry. */
export function errors(...codes: ErrorCode[]) {
  const responses: Record<number, ReturnType<typeof jsonContent<typeof errorBodySchema>>> = {};
  for (const code of codes) {
    const status = ERROR_STATUS[code];
    const previous = responses[status]?.description;
    responses[status] = jsonContent(
      errorBodySchema,
      previous ? `${previous} ${errorDescriptions[code]}` : errorDescriptions[code],
    );
  }
  return responses;
}

/** What every authenticated JSON endpoint can answer besides its own errors. */
const AUTHENTICATED: ErrorCode[] = ["unauthenticated", "internal", "unavailable"];
const WITH_BODY: ErrorCode[] = ["bad_request", "payload_too_large", "unsupported_media_type"];

type Routed<R extends RouteConfig> = R & { getRoutingPath(): string };

/**
 * Adds the error answers to the document only: the route's type keeps its success answers, so handlers and the
 * typed client see what a call returns when it works, and errors go through `ApiError` and `onError`.
 */
function withErrors<const R extends RouteConfig>(config: R, codes: Set<ErrorCode>, secured: boolean): Routed<R> {
  if (config.request?.body) for (const code of WITH_BODY) codes.add(code);
  if (config.request?.body || config.request?.query || config.request?.params) codes.add("bad_request");
  // Every body is read strictly (api/middleware/strict-body.ts), declared or not.
  if (config.method !== "get") for (const code of ["bad_request", "payload_too_large"] as const) codes.add(code);
  const route = createRoute({
    ...config,
    ...(secured ? { security: [{ bearer: [] }] } : {}),
    responses: { ...errors(...codes), ...config.responses },
  });
  return route as unknown as Routed<R>;
}

/** A route that needs a session token: bearer security, and 401/500 answers declared. */
export function authedRoute<const R extends RouteConfig>(config: R, extraErrors: ErrorCode[] = []): Routed<R> {
  return withErrors(config, new Set<ErrorCode>([...AUTHENTICATED, ...extraErrors]), true);
}

/** A route anyone may call. */
export function publicRoute<const R extends RouteConfig>(config: R, extraErrors: ErrorCode[] = []): Routed<R> {
  return withErrors(config, new Set<ErrorCode>(["internal", ...extraErrors]), false);
}

/** Marks a development-only route in the document. */
export const developmentOnly = { "x-development-only": true } as const;
