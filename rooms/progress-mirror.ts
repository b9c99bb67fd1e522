/**
 * Mirrors runs' progress into the chat's live-progress document (Yjs, `chat-progress.ts`). Updates are chained so
 * they land in order; a failure only costs the view, never the record.
 */

import { getServerByName } from "partyserver";
import { errorFields, log } from "../api/log";
import type { RunPatch } from "./chat-progress";
import { cachedChat, type RoomState } from "./room-state";

export function reportProgress(room: RoomState, runId: string, patch: RunPatch): void {
  const chat = cachedChat(room);
  if (!chat) return;
  room.progress = room.progress
    .then(async () => {
      const progress = await getServerByName(room.env.ChatProgress, chat.chatId);
      await progress.applyRun(runId, patch);
    })
    .catch((error) =>
      log("warn", "progress_not_updated", { orgId: chat.orgId, chatId: chat.chatId, runId, ...errorFields(error) }),
    );
}
