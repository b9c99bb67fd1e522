/** The order of the sidebar's chats: newest activity first, ties by title. Pure, so tests can run it anywhere. */

export type Ordered = { id: string; title: string; lastActivityAt: string };

/**
 * Sorts by last activity, newest first, then by title (then id, so the order is stable). `seen` holds a newer time
 * the open chat's socket saw than the list has yet heard (lists trail the rooms by a batch).
 */
export function byActivity<T extends Ordered>(chats: readonly T[], seen: ReadonlyMap<string, string> = new Map()): T[] {
  const at = (chat: T) => Math.max(Date.parse(chat.lastActivityAt), Date.parse(seen.get(chat.id) ?? "") || 0);
  return [...chats].sort(
    (a, b) =>
      at(b) - at(a) ||
      a.title.localeCompare(b.title, undefined, { sensitivity: "base" }) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}
