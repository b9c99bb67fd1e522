/**
 * A chat's lifecycle as Postgres holds it (title, archived, tombstone), in the one shape the App API pushes to the
 * chat's room and the room's purge reads back. `revision` orders pushes that may arrive crossed.
 */
import { chats } from "./schema";

export type ChatLifecycle = {
  revision: number;
  title: string;
  archived: boolean;
  /** Milliseconds since the epoch; null while the chat is not deleted. */
  deleted: { deletedAt: number; purgeAt: number } | null;
};

export const lifecycleColumns = {
  revision: chats.revision,
  title: chats.title,
  archivedAt: chats.archivedAt,
  deletedAt: chats.deletedAt,
  purgeAt: chats.purgeAt,
};

type LifecycleRow = {
  revision: number;
  title: string;
  archivedAt: Date | null;
  deletedAt: Date | null;
  purgeAt: Date | null;
};

export function lifecycleOf(row: LifecycleRow): ChatLifecycle {
  return {
    revision: row.revision,
    title: row.title,
    archived: row.archivedAt !== null,
    deleted:
      row.deletedAt && row.purgeAt ? { deletedAt: row.deletedAt.getTime(), purgeAt: row.purgeAt.getTime() } : null,
  };
}
