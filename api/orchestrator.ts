/**
 * The Orchestrator: after the App API has authenticated the caller and checked membership, this activates
 * the chat's room and forwards to it. Everything that reaches a room from outside passes through here.
 */

import { getServerByName } from "partyserver";
import type { RoomBilling } from "../billing/allowance";
import type { Approval, Artifact } from "../protocol/agents";
import type { RunRefusal } from "../protocol/billing";
import { type CatchUp, closeCodes, type Message, type PostMessageBody } from "../protocol/chat";
import type { ChatCounters } from "../protocol/counters";
import { retryAfterSeconds } from "../protocol/limits";
import type { Decider } from "../rooms/approvals";
import { type ChatProgress, PROGRESS_MEMBER_HEADER } from "../rooms/chat-progress";
import type { ChatRoom } from "../rooms/chat-room";
import type { HistoryPage } from "../rooms/message-log";
import { type ChatRef, type MemberIdentity, socketUpgradeRequest } from "../rooms/room-address";
import type { RoomAgent } from "../rooms/room-agents";
import type { SearchHit } from "../rooms/search-index";
import type { ChatLifecycle } from "./db/chat-lifecycle";
import { ApiError, conflict, forbidden, notFound } from "./errors";

function roomOf(env: Env, chatId: string): DurableObjectStub<ChatRoom> {
  return (env.ChatRoom as DurableObjectNamespace<ChatRoom>).getByName(chatId);
}

export async function activateRoom(env: Env, chat: ChatRef, billing?: RoomBilling): Promise<void> {
  await roomOf(env, chat.chatId).activate(chat, billing);
}

/** Hands a socket upgrade to the room with the verified identity; the client's own headers never reach it. */
export function openRoomSocket(env: Env, chat: ChatRef, identity: MemberIdentity, catchUp: CatchUp): Promise<Response> {
  return roomOf(env, chat.chatId).fetch(socketUpgradeRequest("https://room.internal/ws", chat, identity, catchUp));
}

/** Stores a member's message through the room, which checks their message limit first (429 with Retry-After). */
export async function postToRoom(
  env: Env,
  chat: ChatRef,
  author: MemberIdentity,
  body: PostMessageBody,
): Promise<{ message: Message; created: boolean; runsRefused?: RunRefusal[] }> {
  const result = await roomOf(env, chat.chatId).postMessage(chat, author, body);
  if ("revoked" in result) throw forbidden("you are not a member of this chat");
  if ("closed" in result) throw chatClosed(result.closed);
  if ("rateLimited" in result) {
    const seconds = retryAfterSeconds(result.rateLimited.retryAfterMs);
    throw new ApiError("rate_limited", `too many messages: nothing was stored; send again in ${seconds} s`, seconds);
  }
  return result;
}

/** Tells the room a chat's title, archive state or tombstone changed; older revisions than the room's are ignored. */
export async function pushLifecycle(env: Env, chat: ChatRef, lifecycle: ChatLifecycle): Promise<void> {
  const { chatId } = chat;
  await roomOf(env, chatId).setLifecycle(lifecycle, chat);
  // A progress socket opened before the deletion would otherwise stay open (reopening one is a 404).
  if (lifecycle.deleted) await (await progressOf(env, chatId)).closeAll(closeCodes.chatDeleted, "chat deleted");
}

function chatClosed(why: "archived" | "deleted"): ApiError {
  return why === "archived"
    ? conflict("this chat is archived: it is read-only until someone unarchives it")
    : notFound("chat not found");
}

export async function readRoomHistory(env: Env, chatId: string, page: HistoryPage): Promise<Message[]> {
  return await roomOf(env, chatId).history(page);
}

/**
 * Tells the room a member was removed: it closes their sockets and refuses them until re-admitted. Their sockets to
 * the chat's live-progress document close too (reopening one needs the membership check they no longer pass).
 */
export async function removeFromRoom(env: Env, chatId: string, userId: string): Promise<void> {
  await roomOf(env, chatId).removeMember(userId);
  await (await progressOf(env, chatId)).closeMember(userId);
}

function progressOf(env: Env, chatId: string) {
  return getServerByName(env.ChatProgress as DurableObjectNamespace<ChatProgress>, chatId);
}

export async function admitToRoom(env: Env, chatId: string, userId: string): Promise<void> {
  await roomOf(env, chatId).admitMember(userId);
}

export async function syncRoomAgents(env: Env, chatId: string, agents: RoomAgent[]): Promise<void> {
  await roomOf(env, chatId).setAgents(agents);
}

/** Posts a Parlor notice in a chat, once per `key`. */
export async function noticeInRoom(env: Env, chatId: string, key: string, text: string): Promise<void> {
  await roomOf(env, chatId).noticeFromParlor(key, text);
}

export async function listRoomApprovals(env: Env, chatId: string, status?: Approval["status"]): Promise<Approval[]> {
  return await roomOf(env, chatId).listApprovals(status);
}

export async function decideInRoom(
  env: Env,
  chatId: string,
  decider: Decider & { name: string },
  approvalId: string,
  decision: "approve" | "deny",
): Promise<Approval> {
  const result = await roomOf(env, chatId).decideApproval(decider, approvalId, decision);
  if ("approval" in result) return result.approval;
  const errors: Record<typeof result.error, ApiError> = {
    not_found: notFound("no such approval in this chat"),
    forbidden: forbidden("this tool's approval policy does not let you decide"),
    conflict: conflict("this approval was already decided, or you already voted on it"),
  };
  throw errors[result.error];
}

export async function readRoomArtifact(env: Env, chatId: string, artifactId: string): Promise<Artifact | null> {
  return await roomOf(env, chatId).getArtifact(artifactId);
}

/** Hands a socket to the chat's live-progress document (Yjs, read-only for clients) after the membership check. */
export async function openProgressSocket(
  env: Env,
  chatId: string,
  userId: string,
  connectionId: string | undefined,
): Promise<Response> {
  const progress = await progressOf(env, chatId);
  const url = new URL("https://progress.internal/ws");
  // The connection id only names the socket (for the Yjs provider); it is not an identity.
  if (connectionId) url.searchParams.set("_pk", connectionId.slice(0, 64));
  return progress.fetch(new Request(url, { headers: { Upgrade: "websocket", [PROGRESS_MEMBER_HEADER]: userId } }));
}

export async function roomStats(env: Env, chatId: string) {
  return await roomOf(env, chatId).stats();
}

export async function roomCounters(env: Env, chatId: string): Promise<ChatCounters> {
  return await roomOf(env, chatId).counters(chatId);
}

export async function setRoleInRoom(env: Env, chatId: string, userId: string, role: "admin" | "member"): Promise<void> {
  await roomOf(env, chatId).setMemberRole(userId, role);
}

/** A member (the run's initiator, or an org admin) stops a run: the reply so far is stored, marked stopped. */
export async function stopInRoom(
  env: Env,
  chatId: string,
  stopper: MemberIdentity,
  runId: string,
): Promise<{ seq: number }> {
  const result = await roomOf(env, chatId).stopRun(stopper, runId);
  if ("error" in result) throw new ApiError(result.error, result.message);
  return result;
}

/** A chat member runs a stopped or failed run again, for the same message. */
export async function retryInRoom(
  env: Env,
  chatId: string,
  member: MemberIdentity,
  runId: string,
): Promise<{ runId: string }> {
  const result = await roomOf(env, chatId).retryRun(member, runId);
  if ("error" in result) throw new ApiError(result.error, result.message);
  return result;
}

/** Its author edits a message; the room refuses others (403), a deleted one (409) or an unknown seq (404). */
export async function editInRoom(env: Env, chatId: string, editor: MemberIdentity, seq: number, text: string) {
  const result = await roomOf(env, chatId).editMessage(editor, seq, text);
  if ("rateLimited" in result) {
    const seconds = retryAfterSeconds(result.rateLimited.retryAfterMs);
    throw new ApiError(
      "rate_limited",
      `too many messages and edits: nothing was changed; try again in ${seconds} s`,
      seconds,
    );
  }
  if ("error" in result) throw new ApiError(result.error, result.message);
  return result;
}

/** Its author or an org admin deletes a message: the room keeps the seq and drops the text. */
export async function deleteInRoom(env: Env, chatId: string, deleter: MemberIdentity, seq: number): Promise<Message> {
  const result = await roomOf(env, chatId).deleteMessage(deleter, seq);
  if ("error" in result) throw new ApiError(result.error, result.message);
  return result.message;
}

export async function rebuildRoomSummaries(env: Env, chatId: string, admin: MemberIdentity) {
  return await roomOf(env, chatId).rebuildSummaries(admin);
}

export async function searchRoom(env: Env, chatId: string, q: string, limit: number): Promise<SearchHit[]> {
  return await roomOf(env, chatId).search(q, limit);
}
