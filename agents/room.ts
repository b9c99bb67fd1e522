/**
 * The chat's room as an agent reaches it: a Durable Object stub typed by the room's own class, so every call an
 * agent makes is checked against the room's RPC methods. Every import agents make from `rooms/` is here, and of types
 * only: nothing of `rooms/` runs in an agent.
 */
import type { Summary } from "../protocol/agent-runs";
import type { ChatRoom } from "../rooms/chat-room";
import type { RunCapability } from "../rooms/run-capability";

export type { Summary };

export type Room = DurableObjectStub<ChatRoom>;

/** What `openRun` hands back over RPC: a stub of the run's capability. */
export type RunStub = Rpc.Stub<RunCapability>;

export function roomOf(env: Env, chatId: string): Room {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}
