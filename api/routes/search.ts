/** Message search: in one chat (its members), or across the caller's chats in an org. */
import { DEFAULT_SEARCH_RESULTS, searchQuery, searchResponse } from "../../protocol/message-edits";
import { chatIdParams, orgIdParams } from "../../protocol/orgs";
import { requireChatMember, requireOrgMember } from "../access";
import { authedRoute, jsonContent, router } from "../openapi";
import { searchChat, searchOrg } from "../search";

const tags = ["messages"];
const description =
  "`q` is plain words (1–200 characters), all of which must appear (`deploy` also finds `deployed`); quotes, `*`, " +
  "`NEAR(` and other search syntax are taken as text, not operators. `limit` is 1–50 (default 20). Most relevant " +
  "first (bm25), then newest. Deleted messages never match; edited ones match their new text.";

const chatSearchRoute = authedRoute(
  {
    method: "get",
    path: "/{chatId}/search",
    tags,
    summary: "Search a chat's messages (chat members)",
    description,
    request: { params: chatIdParams, query: searchQuery },
    responses: { 200: jsonContent(searchResponse, "Matches, most relevant first.") },
  },
  ["forbidden", "not_found"],
);
const orgSearchRoute = authedRoute(
  {
    method: "get",
    path: "/{orgId}/search",
    tags,
    summary: "Search every chat of the org the caller is in",
    description: `${description} Only chats the caller is a member of are searched.`,
    request: { params: orgIdParams, query: searchQuery },
    responses: { 200: jsonContent(searchResponse, "Matches from the caller's chats, most relevant first.") },
  },
  ["not_found"],
);

export const chatSearchRoutes = router().openapi(chatSearchRoute, async function searchInChat(c) {
  const { chat } = await requireChatMember(c.var.db, c.req.valid("param").chatId, c.var.caller.userId);
  const { q, limit = DEFAULT_SEARCH_RESULTS } = c.req.valid("query");
  return c.json({ results: await searchChat(c.env, chat.id, q, limit) }, 200);
});

export const orgSearchRoutes = router().openapi(orgSearchRoute, async function searchInOrg(c) {
  const { userId } = c.var.caller;
  const { orgId } = await requireOrgMember(c.var.db, c.req.valid("param").orgId, userId);
  const { q, limit = DEFAULT_SEARCH_RESULTS } = c.req.valid("query");
  return c.json({ results: await searchOrg(c.var.db, c.env, orgId, userId, q, limit) }, 200);
});
