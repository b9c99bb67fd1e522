/**
 * The chat's room as an agent reaches it: a Durable Object stub typed by the room's own class, so every call an
 * agent makes is checked against the room's RPC methods. The import is of types only; nothing of `rooms/` runs here.
 */
import type { ChatRoom } from "../rooms/chat-room";

export type Room = DurableObjectStub<ChatRoom>;

export function roomOf(env: Env, chatId: string): Room {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}
