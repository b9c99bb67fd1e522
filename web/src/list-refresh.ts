/**
 * When the sidebar's lists (orgs, chats) ask the server again: on a timer only while the tab is visible, at once when
 * it becomes visible or the window gets focus, and soon after the open chat's socket sees a new message. Rooms send
 * their heads to Postgres in batches, so a poll faster than `LIST_REFRESH_MS` would show nothing new.
 */
import { useEffect, useRef } from "preact/hooks";

/** How often a list is asked for again while the tab is visible. */
export const LIST_REFRESH_MS = 5_000;
/** Refreshes closer together than this (focus and visibility fire together; a busy chat) are merged into one. */
const MIN_GAP_MS = 1_000;

const activity = new EventTarget();
/** The newest message's time per chat as the open chat's socket saw it. */
const seenActivity = new Map<string, string>();

/** The open chat saw a message written at `at`: the lists refresh, and sort it by that time meanwhile. */
export function noteChatActivity(chatId: string, at: string): void {
  const before = seenActivity.get(chatId);
  if (before && Date.parse(before) >= Date.parse(at)) return;
  seenActivity.set(chatId, at);
  activity.dispatchEvent(new Event("activity"));
}

/** What the open chats' sockets saw, newer than what lists may carry yet. */
export function seenChatActivity(): ReadonlyMap<string, string> {
  return seenActivity;
}

/** Calls `refresh` as the module's comment says; never twice within `MIN_GAP_MS` (a later call is deferred). */
export function useListRefresh(refresh: () => void): void {
  const latest = useRef(refresh);
  latest.current = refresh;
  useEffect(() => {
    let timer: ReturnType<typeof setInterval> | undefined;
    let deferred: ReturnType<typeof setTimeout> | undefined;
    let last = 0;
    const visible = () => document.visibilityState === "visible";
    const now = () => {
      if (!visible() || deferred) return;
      const wait = last + MIN_GAP_MS - Date.now();
      const run = () => {
        deferred = undefined;
        last = Date.now();
        latest.current();
      };
      if (wait > 0) deferred = setTimeout(run, wait);
      else run();
    };
    const poll = () => {
      clearInterval(timer);
      timer = visible() ? setInterval(now, LIST_REFRESH_MS) : undefined;
    };
    const onVisibility = () => {
      poll();
      now();
    };
    poll();
    document.addEventListener("visibilitychange", onVisibility);
    window.addEventListener("focus", now);
    activity.addEventListener("activity", now);
    return () => {
      clearInterval(timer);
      clearTimeout(deferred);
      document.removeEventListener("visibilitychange", onVisibility);
      window.removeEventListener("focus", now);
      activity.removeEventListener("activity", now);
    };
  }, []);
}
