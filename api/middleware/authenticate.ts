import { createMiddleware } from "hono/factory";
import { bearerToken, verifySessionToken } from "../auth/session-token";
import type { AppEnv, Caller } from "../context";
import { unauthenticated } from "../errors";
import { log } from "../log";
import { redeemSocketTicket } from "../socket-tickets";

type AuthenticateOptions = {
  /**
   * Browsers cannot set headers on a WebSocket, so the socket routes also read `?ticket=` (a one-use socket ticket
   * for the chat in the path, preferred: no session token in any URL) or `?token=` (a session token).
   */
  allowQueryToken?: boolean;
};

export function authenticate(options: AuthenticateOptions = {}) {
  return createMiddleware<AppEnv>(async function authenticateCaller(c, next) {
    const token =
      bearerToken(c.req.header("Authorization")) ?? (options.allowQueryToken ? (c.req.query("token") ?? null) : null);
    const ticket = options.allowQueryToken && !token ? (c.req.query("ticket") ?? null) : null;
    try {
      if (ticket) c.set("caller", await callerOfTicket(c.env, c.req.param("chatId"), ticket, c.var.requestId));
      else if (!token) throw unauthenticated("missing session token: send Authorization: Bearer <token>");
      else c.set("caller", await verifySessionToken(c.env, token));
    } catch (error) {
      // A failed sign-in has no org to audit it in: it is logged (one JSON line, never the token) for counters.
      log("warn", "sign_in_failed", {
        requestId: c.var.requestId ?? null,
        path: new URL(c.req.url).pathname,
        reason: error instanceof Error ? error.message : "unknown",
      });
      throw error;
    }
    await next();
  });
}

/** The caller a socket ticket was issued to; a used, expired, unknown or other chat's ticket is a 401. */
async function callerOfTicket(
  env: Env,
  chatId: string | undefined,
  ticket: string,
  requestId: string | undefined,
): Promise<Caller> {
  const caller = chatId ? await redeemSocketTicket(env, chatId, ticket) : null;
  if (!caller) {
    log("warn", "socket_ticket_refused", { requestId: requestId ?? null, ...(chatId ? { chatId } : {}) });
    throw unauthenticated("invalid socket ticket: it is used, expired, or for another chat");
  }
  return caller;
}
