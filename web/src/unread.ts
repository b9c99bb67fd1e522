/**
 * Reading state in the client: the open chat marks itself read up to the newest message on screen while the reader
 * is at the bottom of a visible tab (the sidebar's lists refresh themselves: list-refresh.ts).
 */
import { useEffect, useRef } from "preact/hooks";
import { call, client } from "./api";

/**
 * Marks the open chat read up to `newestSeq` while `atBottom` holds and the tab is visible: one request at a time,
 * never again for a seq already taken, and a newer seq that arrived meanwhile is sent when the request ends.
 */
export function useMarkRead(
  chatId: string,
  newestSeq: number,
  atBottom: boolean,
  onRead: (chatId: string, seq: number) => void,
): void {
  const state = useRef({ chatId, newestSeq, atBottom, onRead, sent: 0, inFlight: false });
  if (state.current.chatId !== chatId) state.current.sent = 0;
  Object.assign(state.current, { chatId, newestSeq, atBottom, onRead });
  const mark = useRef(() => {
    const s = state.current;
    if (!s.atBottom || s.newestSeq <= s.sent || s.inFlight || document.visibilityState !== "visible") return;
    const { chatId: id, newestSeq: seq } = s;
    s.inFlight = true;
    call(client.api.chats[":chatId"].read.$put({ param: { chatId: id }, json: { seq } }))
      .then(
        () => {
          if (state.current.chatId !== id) return;
          state.current.sent = Math.max(state.current.sent, seq);
          state.current.onRead(id, seq);
        },
        () => {
          // Refused (say, the chat is gone): not asked again for this seq, so a failure cannot loop.
          if (state.current.chatId === id) state.current.sent = Math.max(state.current.sent, seq);
        },
      )
      .finally(() => {
        state.current.inFlight = false;
        mark.current();
      });
  });
  useEffect(() => mark.current(), [chatId, newestSeq, atBottom]);
  useEffect(() => {
    const onVisible = () => mark.current();
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, []);
}

/** "now", "5 min", "3 h", or a date: how long ago a chat last had a message. */
export function sinceLabel(iso: string, now = Date.now()): string {
  const minutes = Math.floor((now - Date.parse(iso)) / 60_000);
  if (minutes < 1) return "now";
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 24 * 60) return `${Math.floor(minutes / 60)} h`;
  return new Date(iso).toLocaleDateString();
}
