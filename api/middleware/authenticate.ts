import { createMiddleware } from "hono/factory";
import { bearerToken, verifySessionToken } from "../auth/session-token";
import type { AppEnv } from "../context";
import { unauthenticated } from "../errors";

type AuthenticateOptions = {
  /** Browsers cannot set headers on a WebSocket, so the socket route also reads `?token=`. */
  allowQueryToken?: boolean;
};

export function authenticate(options: AuthenticateOptions = {}) {
  return createMiddleware<AppEnv>(async function authenticateCaller(c, next) {
    const token =
      bearerToken(c.req.header("Authorization")) ?? (options.allowQueryToken ? (c.req.query("token") ?? null) : null);
    try {
      if (!token) throw unauthenticated("missing session token: send Authorization: Bearer <token>");
      c.set("caller", await verifySessionToken(c.env, token));
    } catch (error) {
      // A failed sign-in has no org to audit it in: it is logged (one JSON line, never the token) for counters.
      console.warn(
        JSON.stringify({
          event: "sign_in_failed",
          requestId: c.var.requestId ?? null,
          path: new URL(c.req.url).pathname,
          reason: error instanceof Error ? error.message : "unknown",
        }),
      );
      throw error;
    }
    await next();
  });
}
