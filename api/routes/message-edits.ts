/** Editing and deleting a chat's messages, and rebuilding its summaries after a deletion: checked here, done by the room. */
import {
  editedMessageResponse,
  editMessageBody,
  messageParams,
  rebuildSummariesResponse,
} from "../../protocol/message-edits";
import { chatIdParams } from "../../protocol/orgs";
import { requireChatMember } from "../access";
import { forbidden } from "../errors";
import { authedRoute, jsonBody, jsonContent, router } from "../openapi";
import { deleteInRoom, editInRoom, rebuildRoomSummaries } from "../orchestrator";

const tags = ["messages"];

const editMessageRoute = authedRoute(
  {
    method: "patch",
    path: "/{chatId}/messages/{seq}",
    tags,
    summary: "Edit a message (its author)",
    description:
      "The text is checked as for posting. Every socket gets `message.edited`; history and catch-up carry the new text " +
      "and `editedAt`. Agent replies and Parlor's notices cannot be edited (403); a deleted message is a 409. The same " +
      "text again changes nothing. An edit takes a message from its author's per-member limit (429 with Retry-After).",
    request: { params: messageParams, body: jsonBody(editMessageBody) },
    responses: { 200: jsonContent(editedMessageResponse, "The message as stored now.") },
  },
  ["forbidden", "not_found", "conflict", "rate_limited"],
);
const deleteMessageRoute = authedRoute(
  {
    method: "delete",
    path: "/{chatId}/messages/{seq}",
    tags,
    summary: "Delete a message (its author, or an org admin)",
    description:
      'The seq stays as a tombstone: `text` becomes "" with `deletedAt` and `deletedBy`, and the words are gone from ' +
      "the room (log, search index, a run's saved text). Every socket gets `message.deleted`. If a summary already " +
      "covered it, the chat gets a notice that the summary may have carried it (`POST …/summaries/rebuild`). A " +
      "message already deleted is a 409.",
    request: { params: messageParams },
    responses: { 200: jsonContent(editedMessageResponse, "The tombstone.") },
  },
  ["forbidden", "not_found", "conflict"],
);
const rebuildSummariesRoute = authedRoute(
  {
    method: "post",
    path: "/{chatId}/summaries/rebuild",
    tags,
    summary: "Drop the chat's summaries and make them again from the log (org admins in the chat)",
    description:
      "After a deletion, a summary made earlier may still carry the deleted words: this removes every summary and asks " +
      "the summary job for new ones, made from the log as it is now.",
    request: { params: chatIdParams },
    responses: { 200: jsonContent(rebuildSummariesResponse, "How many summaries were removed.") },
  },
  ["forbidden", "not_found"],
);

export const messageEditRoutes = router()
  .openapi(editMessageRoute, async function editMessage(c) {
    const { userId } = c.var.caller;
    const { chatId, seq } = c.req.valid("param");
    const { chat, name, orgRole } = await requireChatMember(c.var.db, chatId, userId);
    const { message } = await editInRoom(
      c.env,
      chat.id,
      { userId, name, role: orgRole },
      seq,
      c.req.valid("json").text,
    );
    return c.json({ message }, 200);
  })
  .openapi(deleteMessageRoute, async function deleteMessage(c) {
    const { userId } = c.var.caller;
    const { chatId, seq } = c.req.valid("param");
    const { chat, name, orgRole } = await requireChatMember(c.var.db, chatId, userId);
    return c.json({ message: await deleteInRoom(c.env, chat.id, { userId, name, role: orgRole }, seq) }, 200);
  })
  .openapi(rebuildSummariesRoute, async function rebuildSummaries(c) {
    const { userId } = c.var.caller;
    const { chat, name, orgRole } = await requireChatMember(c.var.db, c.req.valid("param").chatId, userId);
    if (orgRole !== "admin") throw forbidden("only org admins may rebuild a chat's summaries");
    return c.json(await rebuildRoomSummaries(c.env, chat.id, { userId, name, role: orgRole }), 200);
  });
