/**
 * `GET /api/dev/counters` (development only): the counters production sends to Workers Analytics Engine, per chat and
 * summed per org, asked of the rooms themselves. Signed in even here: an org's counters are for its admins, a chat's
 * for its members and the org's admins.
 */
import { countersQuery, countersResponse } from "../../protocol/counters";
import { requireChatInOrg, requireOrgAdmin } from "../access";
import { developmentOnly } from "../auth/dev-token";
import { countersOf, orgChatIds } from "../counters";
import { forbidden, notFound } from "../errors";
import { authenticate } from "../middleware/authenticate";
import { database } from "../middleware/database";
import { authedRoute, developmentOnly as developmentOnlyTag, jsonContent, router } from "../openapi";

const countersRoute = authedRoute(
  {
    method: "get",
    path: "/counters",
    tags: ["development"],
    summary: "Counters per chat and per org, as production sends them to Analytics Engine (development only)",
    description:
      "With `chatId`: that chat (a member of it or an org admin). Without: every chat of the org, summed (org " +
      "admins). `messages`, `runsStarted`, `runsFailed`, `approvalsPending` and the tokens come from the room's " +
      "tables, `openSockets` is now; `runsRefused`, `toolCalls` and `errors` are counted in memory since `since`, " +
      "when the room woke.",
    ...developmentOnlyTag,
    middleware: [developmentOnly, authenticate(), database] as const,
    request: { query: countersQuery },
    responses: { 200: jsonContent(countersResponse, "Each chat's counters and their sum.") },
  },
  ["forbidden", "not_found"],
);

export const devCounterRoutes = router().openapi(countersRoute, async function counters(c) {
  const { orgId, chatId } = c.req.valid("query");
  const { userId } = c.var.caller;
  if (chatId) {
    const access = await requireChatInOrg(c.var.db, chatId, userId);
    if (access.chat.orgId !== orgId) throw notFound("chat not found");
    if (!access.isMember && access.orgRole !== "admin") throw forbidden("you are not a member of this chat");
    return c.json(await countersOf(c.env, orgId, [chatId]), 200);
  }
  await requireOrgAdmin(c.var.db, orgId, userId);
  return c.json(await countersOf(c.env, orgId, await orgChatIds(c.var.db, orgId)), 200);
});
