/**
 * Who the tab is signed in as, and a fresh session token for each request. Two sources: development sign-in (a
 * 12-hour token from `POST /api/dev/token`, kept in sessionStorage) or Clerk (`@clerk/clerk-js`, loaded by
 * clerk.ts only when `GET /api/config` names a publishable key). Clerk's tokens last about a minute, so every REST
 * call and every socket (re)connect asks `tokens.fresh()` rather than holding one.
 */
import type { Clerk } from "@clerk/clerk-js";

const TOKEN_KEY = "parlor.token";
const USER_KEY = "parlor.user";
const SIGNED_OUT = "parlor:signed-out";

let clerk: Clerk | null = null;

export const tokens = {
  /** From now on tokens come from this Clerk instance (its signed-in session). */
  useClerk(instance: Clerk) {
    clerk = instance;
  },
  /** A token good for the next request, or null when signed out. Clerk mints a new one when its cache is stale. */
  async fresh(): Promise<string | null> {
    if (clerk) return (await clerk.session?.getToken()) ?? null;
    return sessionStorage.getItem(TOKEN_KEY);
  },
  /** A token minted now, bypassing Clerk's cache (after a refused connect, before probing why). */
  async renewed(): Promise<string | null> {
    if (clerk) return (await clerk.session?.getToken({ skipCache: true })) ?? null;
    return sessionStorage.getItem(TOKEN_KEY);
  },
};

// sessionStorage, so two tabs can be two different people chatting with each other.
export const session = {
  /** The signed-in user's id (Clerk's user id under Clerk), or null. */
  user: () => (clerk ? (clerk.user?.id ?? null) : sessionStorage.getItem(USER_KEY)),
  /** Development sign-in: keep the token `POST /api/dev/token` gave. */
  save(token: string, userId: string) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, userId);
  },
  /** Signs out: forgets the development token, or ends the Clerk session. */
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    if (clerk?.user) void clerk.signOut();
  },
  /** Signs the tab out and tells every listener (a request was refused as unauthenticated). */
  expired() {
    session.clear();
    window.dispatchEvent(new Event(SIGNED_OUT));
  },
  /** Calls `listener` when a request is refused as unauthenticated (the session was cleared); returns an unsubscribe. */
  onSignedOut(listener: () => void): () => void {
    window.addEventListener(SIGNED_OUT, listener);
    return () => window.removeEventListener(SIGNED_OUT, listener);
  },
};
