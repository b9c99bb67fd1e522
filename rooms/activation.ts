/** A room learns which chat and org it serves once; a later call naming another org is refused. */
import type { ChatRef } from "./room-address";
import { type MetaRow, toChatRef } from "./rows";
import { startUsageCursor } from "./usage-batches";

export function activate(sql: SqlStorage, chat: ChatRef): void {
  const stored = sql.exec<Pick<MetaRow, "value">>("SELECT value FROM room_meta WHERE key = 'chat'").toArray()[0];
  if (!stored) {
    sql.exec("INSERT INTO room_meta (key, value) VALUES ('chat', ?)", JSON.stringify(chat));
    startUsageCursor(sql, false);
    return;
  }
  const known = toChatRef(stored);
  if (known.chatId !== chat.chatId || known.orgId !== chat.orgId) {
    throw new Error(`room ${known.chatId} of org ${known.orgId} cannot serve chat ${chat.chatId} of org ${chat.orgId}`);
  }
}

export function activeChat(sql: SqlStorage): ChatRef | null {
  const stored = sql.exec<Pick<MetaRow, "value">>("SELECT value FROM room_meta WHERE key = 'chat'").toArray()[0];
  return stored ? toChatRef(stored) : null;
}
