/**
 * Socket tickets: a browser cannot set headers on a WebSocket, so rather than put its session token in the socket's
 * URL (where request logs keep it), it asks `POST /api/chats/:chatId/socket-ticket` for a ticket and opens the socket
 * with `?ticket=`. A ticket is 32 random bytes (base64url), good for one socket of one user in one chat for 30 s.
 *
 * One small SQLite-backed Durable Object per chat (named by the chat id) holds the chat's live tickets, keyed by the
 * SHA-256 of the ticket (the ticket itself is never stored). Redeeming deletes the row in the same synchronous step
 * that reads it, inside the one object every isolate reaches for that chat, so a ticket opens at most one socket.
 * A ticket presented to another chat's object is simply unknown there. Expired rows are pruned on every call, and by
 * an alarm at the newest ticket's expiry, so a chat whose tickets nobody redeems keeps none.
 */
import { DurableObject } from "cloudflare:workers";
import type { Caller } from "./context";

/** How long a ticket stays good, in milliseconds. */
export const TICKET_TTL_MS = 30_000;

type TicketRow = { user_id: string; name: string | null; expires_at: number };

export class SocketTickets extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS tickets (hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, name TEXT, expires_at INTEGER NOT NULL)",
    );
  }

  /** A new ticket for `caller`, good once until `ttlMs` from now. */
  async issue(caller: Caller, ttlMs: number = TICKET_TTL_MS): Promise<{ ticket: string; expiresAt: number }> {
    const now = Date.now();
    this.prune(now);
    const ticket = randomTicket();
    const expiresAt = now + ttlMs;
    this.ctx.storage.sql.exec(
      "INSERT INTO tickets (hash, user_id, name, expires_at) VALUES (?, ?, ?, ?)",
      await digest(ticket),
      caller.userId,
      caller.name,
      expiresAt,
    );
    // One alarm, at the newest expiry: every ticket is past by then.
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm < expiresAt) await this.ctx.storage.setAlarm(expiresAt);
    return { ticket, expiresAt };
  }

  /** Past the newest ticket's expiry: expired tickets go; any still good (a clock moved) get the alarm again. */
  async alarm(): Promise<void> {
    this.prune(Date.now());
    const left = this.ctx.storage.sql.exec<{ at: number | null }>("SELECT max(expires_at) AS at FROM tickets").one().at;
    if (left !== null) await this.ctx.storage.setAlarm(left);
  }

  /** The caller the ticket was issued to, once: the ticket is gone afterwards. Null when unknown, used or expired. */
  async redeem(ticket: string): Promise<Caller | null> {
    const hash = await digest(ticket);
    // Read and delete in one synchronous statement: no other call can run in between.
    const [row] = this.ctx.storage.sql
      .exec<TicketRow>("DELETE FROM tickets WHERE hash = ? RETURNING user_id, name, expires_at", hash)
      .toArray();
    this.prune(Date.now());
    if (!row || row.expires_at <= Date.now()) return null;
    return { userId: row.user_id, name: row.name };
  }

  private prune(now: number): void {
    this.ctx.storage.sql.exec("DELETE FROM tickets WHERE expires_at <= ?", now);
  }
}

function ticketsOf(env: Env, chatId: string): DurableObjectStub<SocketTickets> {
  return (env.SocketTickets as DurableObjectNamespace<SocketTickets>).getByName(chatId);
}

/** Issues a ticket for a socket of `caller` in `chatId` (the caller's membership is checked before this). */
export async function issueSocketTicket(env: Env, chatId: string, caller: Caller): Promise<string> {
  const { ticket } = await ticketsOf(env, chatId).issue(caller);
  return ticket;
}

/** Redeems a ticket presented to `chatId`'s socket: the caller it was issued to, or null. */
export async function redeemSocketTicket(env: Env, chatId: string, ticket: string): Promise<Caller | null> {
  // Not a ticket's shape: no need to wake the chat's object.
  if (!/^[A-Za-z0-9_-]{43}$/.test(ticket)) return null;
  return ticketsOf(env, chatId).redeem(ticket);
}

function randomTicket(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

async function digest(ticket: string): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(ticket)));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}
